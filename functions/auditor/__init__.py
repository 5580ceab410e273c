"""auditor: appends every orderflow event on the Kinesis audit stream to the audit table."""
