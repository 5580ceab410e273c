"""projector: keeps each order's status and history in the orders table."""
