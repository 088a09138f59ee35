"""Media files: processing uploads into renditions (`services`, run by `tasks`), who may play
them (`selectors`), the media API (`apis`), the storage sweep (`cleanup`), and the Django-free
`pipeline` that probes and transcodes files on disk."""
