"""Co-teachers: a class's several teachers, a reply's assigned reviewer, and the school's open
work per teacher. Who sees a reply is `learning.replies.selectors.visible_replies` (one rule);
this package writes what that rule reads and shows its figures."""
