using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Idefics3.Hub;

/// <summary>
/// A Hugging Face model repository and a revision: <c>org/name</c> or <c>org/name@revision</c>, where the revision
/// is a branch, a tag or a 40-character commit hash (default <c>main</c>).
/// </summary>
internal sealed partial record HubRepoReference
{
    /// <summary>The revision used when none is given.</summary>
    public const string DefaultRevision = "main";

    private const int MaxRepoIdLength = 96;
    private const int MaxRevisionLength = 255;

    /// <summary>Initializes a new instance of the <see cref="HubRepoReference"/> class.</summary>
    /// <param name="repoId">The repository id, <c>org/name</c>.</param>
    /// <param name="revision">The branch, tag or commit hash.</param>
    /// <exception cref="HubException">The id or the revision is not valid.</exception>
    public HubRepoReference(string repoId, string revision = DefaultRevision)
    {
        ArgumentNullException.ThrowIfNull(repoId);
        ArgumentNullException.ThrowIfNull(revision);
        string? problem = RepoIdProblem(repoId) ?? RevisionProblem(revision);
        if (problem is not null)
        {
            throw new HubException(HubErrorKind.InvalidModelId, $"'{repoId}@{revision}' is not a valid Hugging Face model reference: {problem}")
            {
                RepoId = repoId,
                Revision = revision,
            };
        }

        RepoId = repoId;
        Revision = revision;
    }

    /// <summary>Gets the repository id, <c>org/name</c>.</summary>
    public string RepoId { get; }

    /// <summary>Gets the branch, tag or commit hash.</summary>
    public string Revision { get; }

    /// <summary>Gets a value indicating whether <see cref="Revision"/> is a full commit hash (40 lowercase hex digits).</summary>
    public bool IsCommitHash => IsCommit(Revision);

    /// <summary>Gets the name of this repository's folder in the hub cache, <c>models--org--name</c>.</summary>
    public string CacheFolderName => "models--" + RepoId.Replace("/", "--", StringComparison.Ordinal);

    /// <summary>Parses <c>org/name</c> or <c>org/name@revision</c>.</summary>
    /// <param name="value">The text to parse.</param>
    /// <returns>The reference.</returns>
    /// <exception cref="HubException">The text is not a valid reference; the message says why.</exception>
    public static HubRepoReference Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (TryParse(value, out HubRepoReference? reference, out string? problem))
        {
            return reference;
        }

        throw new HubException(HubErrorKind.InvalidModelId, $"'{value}' is not a valid Hugging Face model reference (org/name or org/name@revision): {problem}");
    }

    /// <summary>Tries to parse <c>org/name</c> or <c>org/name@revision</c>.</summary>
    /// <param name="value">The text to parse.</param>
    /// <param name="reference">The reference when the text is valid.</param>
    /// <returns><see langword="true"/> when the text is a valid reference.</returns>
    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out HubRepoReference? reference) =>
        TryParse(value, out reference, out _);

    /// <inheritdoc/>
    public override string ToString() => RepoId + "@" + Revision;

    internal static bool IsCommit(string value) => CommitPattern().IsMatch(value);

    private static bool TryParse(string? value, [NotNullWhen(true)] out HubRepoReference? reference, [NotNullWhen(false)] out string? problem)
    {
        reference = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            problem = "the value is empty";
            return false;
        }

        string repoId = value;
        string revision = DefaultRevision;
        int at = value.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            repoId = value[..at];
            revision = value[(at + 1)..];
        }

        problem = RepoIdProblem(repoId) ?? RevisionProblem(revision);
        if (problem is not null)
        {
            return false;
        }

        reference = new HubRepoReference(repoId, revision);
        return true;
    }

    private static string? RepoIdProblem(string repoId)
    {
        if (repoId.Length == 0)
        {
            return "the repository id is empty";
        }

        if (repoId.Length > MaxRepoIdLength)
        {
            return $"the repository id is longer than {MaxRepoIdLength} characters";
        }

        if (!RepoIdPattern().IsMatch(repoId))
        {
            return "a repository id is 'org/name', each part made of letters, digits, '-', '_' and '.', not starting or ending with '-' or '.'";
        }

        if (repoId.Contains("--", StringComparison.Ordinal) || repoId.Contains("..", StringComparison.Ordinal))
        {
            return "'--' and '..' are not allowed in a repository id";
        }

        return repoId.EndsWith(".git", StringComparison.OrdinalIgnoreCase) ? "a repository id cannot end with '.git'" : null;
    }

    private static string? RevisionProblem(string revision)
    {
        if (revision.Length == 0)
        {
            return "the revision after '@' is empty";
        }

        if (revision.Length > MaxRevisionLength)
        {
            return $"the revision is longer than {MaxRevisionLength} characters";
        }

        if (!RevisionPattern().IsMatch(revision) || revision.Contains("..", StringComparison.Ordinal) || revision.Contains("//", StringComparison.Ordinal))
        {
            return $"'{revision}' is not a valid branch, tag or commit (letters, digits, '-', '_', '.', '/' and '+'; no '..')";
        }

        return null;
    }

    [GeneratedRegex("^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?/[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$", RegexOptions.CultureInvariant)]
    private static partial Regex RepoIdPattern();

    [GeneratedRegex("^[A-Za-z0-9_+](?:[A-Za-z0-9_.+/-]*[A-Za-z0-9_+])?$", RegexOptions.CultureInvariant)]
    private static partial Regex RevisionPattern();

    [GeneratedRegex("^[0-9a-f]{40}$", RegexOptions.CultureInvariant)]
    private static partial Regex CommitPattern();
}
