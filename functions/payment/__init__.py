"""payment: charges and refunds through the payment-provider port, kept in the payments ledger."""
