"""Care tasks: posted for a client, taken by a qualified volunteer or staff member, done."""
