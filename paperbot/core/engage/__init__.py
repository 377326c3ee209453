"""Engagement: channel feedback (votes, weaker signals), message and thread maps, taste, roundup.

Modules: feedback (the store of votes and signals), posts (message -> paper for reactions),
threads (channel + paper -> thread), taste (the model), rerank (taste in digests), lean (what
`/papers taste` says), roundup (the week's roundup digest), weekly (its schedule), usecases
(what the service's engagement methods do).
"""
