"""LTI 1.3 Advantage: Practika as a tool a school registers in its LMS (issue 16).

- `tool` is the one module that imports pylti1p3: the tool configuration read from this
  school's `LtiRegistration` rows, the OIDC login and the launch (with the nonce spent once),
  deep-linking responses, and the AGS and NRPS service calls.
- `services`: registrations, accepting a launch (account, membership, course, grade target),
  grade passback and roster sync; `selectors`: what the pages read; `keys`: the tool's RSA keys.
- `views` / `urls`: the admin's registration page, the LMS-facing endpoints (login, launch,
  JWKS, all on the school's own host), the deep-linking picker and the course roster page.
- `tasks`: `learning.lti_post_score` and `learning.lti_sync_roster`, under learning.retries.
"""
