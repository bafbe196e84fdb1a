"""Need versus provision: where tasks are posted and left unmet, against who could take
them (on duty now and qualified), by H3 area at a tenant-chosen resolution."""
