"""A guardian's read-only view of a studio student's feedback (tenants.services.guardian_consent
holds the consent and its signed link)."""
