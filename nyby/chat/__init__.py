"""A chat per task: its holder, its poster and the tenant's coordinators, and nobody else."""
