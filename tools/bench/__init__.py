"""`make bench`: cold start, per-record cost and local-cloud throughput, as figures; it never fails on time."""
