"""Read models of the API: small query modules, so routes hold no SQL."""
