"""orders-api: the HTTP API that takes orders and shows their status and audit trail."""
