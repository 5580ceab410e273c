"""outbox-relay: the OrderPlaced pipe's enrichment (the orders table's stream to the bus)."""
