"""The core loop lives in each tenant's schema: exercises, replies, media, comments."""
