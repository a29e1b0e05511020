"""HTTP payload Structs shared by more than one service (Logto's JSON field names)."""
