using Idefics3.Hub;

namespace Idefics3.Tests.Hub;

public sealed class HubRepoReferenceTests
{
    [Theory]
    [InlineData("HuggingFaceTB/SmolVLM-256M-Instruct", "HuggingFaceTB/SmolVLM-256M-Instruct", "main")]
    [InlineData("org/name@v1.0", "org/name", "v1.0")]
    [InlineData("org/name@refs/pr/12", "org/name", "refs/pr/12")]
    [InlineData("org_1/model.v2@dev-branch", "org_1/model.v2", "dev-branch")]
    [InlineData("org/name@0123456789abcdef0123456789abcdef01234567", "org/name", "0123456789abcdef0123456789abcdef01234567")]
    public void Parse_splits_repo_id_and_revision(string value, string repoId, string revision)
    {
        HubRepoReference reference = HubRepoReference.Parse(value);

        Assert.Equal(repoId, reference.RepoId);
        Assert.Equal(revision, reference.Revision);
    }

    [Fact]
    public void Full_lowercase_40_hex_revision_is_a_commit_hash_and_a_branch_is_not()
    {
        Assert.True(HubRepoReference.Parse("org/name@0123456789abcdef0123456789abcdef01234567").IsCommitHash);
        Assert.False(HubRepoReference.Parse("org/name@0123456789ABCDEF0123456789ABCDEF01234567").IsCommitHash);
        Assert.False(HubRepoReference.Parse("org/name@0123456").IsCommitHash);
        Assert.False(HubRepoReference.Parse("org/name").IsCommitHash);
    }

    [Fact]
    public void Cache_folder_name_follows_huggingface_hub()
    {
        Assert.Equal("models--HuggingFaceTB--SmolVLM-256M-Instruct", HubRepoReference.Parse("HuggingFaceTB/SmolVLM-256M-Instruct@main").CacheFolderName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("name-without-org")]
    [InlineData("a/b/c")]
    [InlineData("/name")]
    [InlineData("org/")]
    [InlineData("org/na me")]
    [InlineData("org/-name")]
    [InlineData("org/name.")]
    [InlineData("org--x/name")]
    [InlineData("org/na..me")]
    [InlineData("org/name.git")]
    [InlineData("org/name@")]
    [InlineData("org/name@../../etc")]
    [InlineData("org/name@a b")]
    [InlineData("org/name@/main")]
    [InlineData("org/name@main@x")]
    [InlineData("org\\name")]
    public void Invalid_references_are_rejected_with_a_reason(string value)
    {
        Assert.False(HubRepoReference.TryParse(value, out _));
        var ex = Assert.Throws<HubException>(() => HubRepoReference.Parse(value));
        Assert.Equal(HubErrorKind.InvalidModelId, ex.Kind);
        Assert.Contains("not a valid Hugging Face model reference", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Repo_id_longer_than_96_characters_is_rejected()
    {
        Assert.False(HubRepoReference.TryParse("org/" + new string('a', 93), out _));
        Assert.True(HubRepoReference.TryParse("org/" + new string('a', 92), out _));
    }

    [Fact]
    public void To_string_round_trips()
    {
        HubRepoReference reference = HubRepoReference.Parse("org/name@v2");
        Assert.Equal(reference, HubRepoReference.Parse(reference.ToString()));
    }
}
