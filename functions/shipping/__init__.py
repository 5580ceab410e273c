"""shipping: creates and cancels shipments with the carrier."""
