"""inventory: stock per SKU, reserved and released for the saga's commands."""
