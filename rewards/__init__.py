"""Points engine: earning, draws, the ledger, the benefit catalog and redemptions."""
