"""The Django admin: the coordinators' main tool. Importing the package registers every admin."""

from products.admin import accounts, batch_records, batches, catalog, chain, donors, holds, units

__all__ = ["accounts", "batch_records", "batches", "catalog", "chain", "donors", "holds", "units"]
