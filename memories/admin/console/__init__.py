"""The curator's console: pages about one spirit, beside its change page in the admin.

Each page is a view taking `(request, object_id)`, mounted by `SpiritAdmin.get_urls`
(memories.admin.spirits) at `/admin/spirits/spirit/<id>/<route>` under the URL name
`admin:spirits_spirit_<name>`. The mounting wraps it with `admin_site.admin_view` and with the
spirit change page's own scoping: a spirit the user cannot see (another team's, for staff) is a
404, one they see without view permission a 403. The view then finds the spirit on
`request.console_spirit`.
"""
