"""The people helped: their contact, place, needs and risks, consent and status."""
