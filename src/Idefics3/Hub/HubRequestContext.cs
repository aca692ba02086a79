namespace Idefics3.Hub;

/// <summary>One resolution: the repository, its commit (once known), the cache and the options; makes errors that name them.</summary>
/// <param name="Reference">The repository and revision.</param>
/// <param name="CommitOrNull">The commit, once resolved.</param>
/// <param name="CacheOrNull">The cache, once known.</param>
/// <param name="Options">The options.</param>
internal sealed record HubRequestContext(HubRepoReference Reference, string? CommitOrNull, HubCache? CacheOrNull, HubOptions Options)
{
    public string Commit => CommitOrNull ?? throw new InvalidOperationException("No commit yet.");

    public HubCache Cache => CacheOrNull ?? throw new InvalidOperationException("No cache.");

    public HubException Error(HubErrorKind kind, string message, string? file = null, Exception? inner = null) =>
        new(kind, message, inner)
        {
            RepoId = Reference.RepoId,
            Revision = Reference.Revision,
            FileName = file,
        };
}
