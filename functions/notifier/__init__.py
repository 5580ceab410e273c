"""notifier: one customer notification per order outcome or shipment, on the notifications topic."""
