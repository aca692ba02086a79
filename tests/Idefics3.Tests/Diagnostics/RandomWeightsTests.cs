using System.Globalization;
using Idefics3.Configuration;
using Idefics3.Diagnostics;

namespace Idefics3.Tests.Diagnostics;

public sealed class RandomWeightsTests
{
    [Fact]
    public void CountParameters_matches_the_approved_parameter_list_of_the_real_checkpoint()
    {
        Idefics3Config config = Idefics3Config.Load(TestFixtures.PathOf("smolvlm-256m-instruct"));
        long expected = File.ReadAllLines(TestFixtures.PathOf("approved", "smolvlm-256m-instruct.parameters.txt"))
            .Where(l => l.Length > 0)
            .Sum(l => l[(l.IndexOf(' ', StringComparison.Ordinal) + 1)..].Trim('[', ']').Split(',')
                .Aggregate(1L, (a, d) => a * long.Parse(d.Trim(), CultureInfo.InvariantCulture)));

        Assert.Equal(expected, RandomWeights.CountParameters(config));
    }

    [Fact]
    public void WriteSafetensors_writes_every_tensor_of_the_configuration_in_bfloat16()
    {
        string folder = Directory.CreateTempSubdirectory("idefics3-random-weights-").FullName;
        try
        {
            string tiny = TestFixtures.PathOf("tiny-idefics3", "model");
            foreach (string file in Directory.EnumerateFiles(tiny).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
            {
                File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
            }

            Idefics3Config config = Idefics3Config.Load(folder);
            RandomWeights.WriteSafetensors(Path.Combine(folder, "model.safetensors"), config);

            IReadOnlyDictionary<string, long> byDType = CheckpointStatistics.ElementsByDType(folder);
            Assert.Equal(["BF16"], byDType.Keys);
            Assert.Equal(RandomWeights.CountParameters(config), byDType["BF16"]);
            Assert.Equal(CheckpointStatistics.ElementsByDType(tiny).Values.Sum(), byDType["BF16"]);
            Assert.False(File.Exists(Path.Combine(folder, "model.safetensors.partial")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
