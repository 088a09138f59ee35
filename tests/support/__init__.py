"""What the tests share that is not a test: factories, media samples, the live server and
browser fixtures, the handover follower, school content for the isolation walk, the fuzzing
and edge-server helpers, the scale builder and the Terraform reader."""
