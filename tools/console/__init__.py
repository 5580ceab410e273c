"""orderflow's operations console (`orderflow`): status, DLQs, redrive, replay and trace, on AWS or locally."""
