"""Services outside the platform, one interface each: file storage (S3 or a local folder);
mail, SMS and push to come."""
