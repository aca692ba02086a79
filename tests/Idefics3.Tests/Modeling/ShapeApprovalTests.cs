using Idefics3.Configuration;
using Idefics3.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Tests.Modeling;

/// <summary>
/// Builds the real model trees on the meta device (no weight memory) and compares every parameter name and shape with
/// approved lists generated from the checkpoint layout formulas (spec section 7.1).
/// </summary>
public sealed class ShapeApprovalTests
{
    [Theory]
    [InlineData("idefics3-8b-llama3", 729, 8_462_086_384L)]
    [InlineData("smolvlm-256m-instruct", 471, 256_484_928L)]
    [InlineData("smolvlm-500m-instruct", 489, 507_482_304L)]
    [InlineData("smolvlm-instruct-2.2b", 657, 2_246_272_880L)]
    public void Meta_model_parameters_match_the_approved_names_shapes_and_count(string name, int tensors, long parameters)
    {
        Idefics3Config config = Idefics3Config.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "configs", name + ".config.json"));
        using var module = Idefics3CausalLM.CreateOnMeta(config);
        var actual = module.named_parameters()
            .Select(p => (p.name, p.parameter))
            .OrderBy(p => p.name, StringComparer.Ordinal)
            .ToList();
        Assert.All(actual, p => Assert.Equal(DeviceType.META, p.parameter.device_type));

        string[] approved = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "approved", name + ".parameters.txt"));
        string[] lines = [.. actual.Select(p => $"{p.name} [{string.Join(", ", p.parameter.shape)}]")];
        Assert.Equal(approved, lines);
        Assert.Equal(tensors, lines.Length);
        Assert.Equal(parameters, actual.Sum(p => p.parameter.numel()));
    }
}
