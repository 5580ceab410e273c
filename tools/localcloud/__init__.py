"""The local cloud: orderflow's template.yaml running on moto, with no Docker and no AWS account."""
