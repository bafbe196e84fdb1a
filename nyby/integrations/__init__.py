"""Services outside the platform, one interface each: file storage (S3 or a local
folder) and mail (SMTP or a local outbox folder); SMS and push to come."""
