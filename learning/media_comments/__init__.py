"""Teachers' voice and video notes on the compare page (issue 18): a comment may carry a short
recording made at the playhead. The recording is an ordinary upload of purpose `comment`
(learning.uploads), processed by the same pipeline (learning.media, at most
`learning.media.services.COMMENT_MEDIA_MAX_SECONDS`), attached by `comment_create`
(learning.replies.services) and played from the comment list (`CommentMediaOut`)."""
