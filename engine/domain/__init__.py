"""Domain records shared by services and the storage port."""
