"""The Spreidingswet capacity cycle: estimate, distribution, municipal decisions, location projects."""
