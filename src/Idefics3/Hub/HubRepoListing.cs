namespace Idefics3.Hub;

/// <summary>A repository revision's commit and the files it holds.</summary>
/// <param name="Commit">The commit hash.</param>
/// <param name="Files">The file paths.</param>
internal sealed record HubRepoListing(string Commit, IReadOnlyList<string> Files);
