"""Recognition: badges for milestones reached, and the volunteer's activity record."""
