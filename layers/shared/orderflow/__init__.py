"""orderflow: the event contracts and the small helpers every function shares."""
