using Idefics3.Samples.DocumentQA;

namespace Idefics3.Samples.Tests;

/// <summary>Paths of the tiny model and the sample assets in the test output.</summary>
internal static class SampleFixtures
{
    /// <summary>The tiny random Idefics3 checkpoint: a valid model whose answers are nonsense.</summary>
    public static string TinyModel => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-model");

    /// <summary>The sample assets, copied into the output by the sample projects.</summary>
    public static string Assets => Path.Combine(AppContext.BaseDirectory, "assets");

    public static string Documents => Path.Combine(Assets, "documents");
}

/// <summary>A fact that is skipped, with the reason, when pdftoppm (poppler-utils) is not installed.</summary>
public sealed class RequiresPdftoppmFactAttribute : FactAttribute
{
    public RequiresPdftoppmFactAttribute()
    {
        if (!new PdfPageRenderer().IsAvailable)
        {
            Skip = "pdftoppm (poppler-utils) is not installed; install it (apt-get install poppler-utils) to run this test.";
        }
    }
}
