"""Evidence shared by several rules (roles, departments, assignment, active, vocabulary, job
status): facts computed from the canonical frames, never diagnoses."""
