using System.Text.Json;
using Idefics3.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Idefics3.Tests.Modeling;

/// <summary>Float32 parity with transformers 4.47.1 on the six golden cases of the tiny checkpoint.</summary>
public sealed class GoldenParityTests(TinyModelFixture fx) : IClassFixture<TinyModelFixture>
{
    private const float Tolerance = 1e-5f;

    public static TheoryData<string> AllCases => [.. TinyModelFixture.AllCases];

    public static TheoryData<string> ImageCases => [.. TinyModelFixture.AllCases.Where(c => c != "text_only")];

    public static TheoryData<string> SingleRowCases => [.. TinyModelFixture.AllCases.Where(c => c != "batch2_padded")];

    [Theory]
    [MemberData(nameof(ImageCases))]
    public void Vision_embeddings_each_layer_last_hidden_state_and_connector_match_hf_golden_within_1e_5(string name)
    {
        using var scope = torch.NewDisposeScope();
        var (embeddings, layers, last, connector) = fx.Model.EncodeImagesTraced(
            fx.Golden(name, "pixel_values"), fx.Golden(name, "pixel_attention_mask"));
        Assert.True(TinyModelFixture.MaxAbsDiff(embeddings, fx.Golden(name, "vision_embeddings")) <= Tolerance, "embeddings");
        Assert.Equal(fx.Model.Config.Vision.NumHiddenLayers, layers.Length);
        for (int i = 0; i < layers.Length; i++)
        {
            float d = TinyModelFixture.MaxAbsDiff(layers[i], fx.Golden(name, $"vision_layer{i}"));
            Assert.True(d <= Tolerance, $"vision layer {i}: max |diff| {d}");
        }

        Assert.True(TinyModelFixture.MaxAbsDiff(last, fx.Golden(name, "vision_last_hidden_state")) <= Tolerance, "last hidden state");
        Assert.True(TinyModelFixture.MaxAbsDiff(connector, fx.Golden(name, "connector_output")) <= Tolerance, "connector");
    }

    [Theory]
    [MemberData(nameof(ImageCases))]
    public void EncodeImages_in_chunks_matches_the_golden_connector_output(string name)
    {
        using var scope = torch.NewDisposeScope();
        Tensor features = fx.Model.EncodeImages(fx.Golden(name, "pixel_values"), fx.Golden(name, "pixel_attention_mask"));
        Assert.True(TinyModelFixture.MaxAbsDiff(features, fx.Golden(name, "connector_output")) <= Tolerance);
    }

    [Theory]
    [MemberData(nameof(AllCases))]
    public void Merged_input_embeddings_and_logits_match_hf_golden_within_1e_5(string name)
    {
        using var scope = torch.NewDisposeScope();
        Tensor ids = fx.Golden(name, "input_ids");
        Tensor mask = fx.Golden(name, "attention_mask");
        Tensor embeds = Embed(name);
        Assert.True(TinyModelFixture.MaxAbsDiff(embeds, fx.Golden(name, "inputs_embeds_merged")) <= Tolerance, "merged embeddings");

        Tensor positions = Idefics3ForConditionalGeneration.PositionIdsFromAttentionMask(mask);
        Tensor logits = fx.Model.Forward(embeds, positions, mask, cache: null, lastPositionOnly: false);
        Tensor golden = fx.Golden(name, "logits");
        Assert.Equal(golden.shape, logits.shape);

        // every real (unpadded) position, every row; padded positions have no defined logits
        Tensor valid = mask.ne(0);
        float d = TinyModelFixture.MaxAbsDiff(logits[valid], golden[valid]);
        Assert.True(d <= Tolerance, $"logits: max |diff| {d}");

        Tensor last = fx.Model.Forward(embeds, positions, mask, cache: null, lastPositionOnly: true);
        Assert.Equal([ids.shape[0], 1, golden.shape[2]], last.shape);
        Assert.True(TinyModelFixture.MaxAbsDiff(last, golden.narrow(1, ids.shape[1] - 1, 1)) <= Tolerance, "last-position-only logits");
    }

    [Fact]
    public void Batch_position_ids_follow_hf_generate_cumsum_rule()
    {
        using var scope = torch.NewDisposeScope();
        Tensor positions = Idefics3ForConditionalGeneration.PositionIdsFromAttentionMask(fx.Golden("batch2_padded", "attention_mask"));
        long[][] expected = fx.Case("batch2_padded").GetProperty("position_ids").Deserialize<long[][]>()!;
        Assert.Equal(expected.SelectMany(r => r).ToArray(), positions.data<long>().ToArray());
    }

    [Theory]
    [MemberData(nameof(SingleRowCases))]
    public void Greedy_generation_with_kv_cache_reproduces_hf_tokens_and_step_logits(string name)
    {
        using var scope = torch.NewDisposeScope();
        long[] expected = fx.Case(name).GetProperty("generate_new_ids")[0].Deserialize<long[]>()!;
        Tensor goldenSteps = fx.Golden(name, "greedy_step_logits_kvcache");
        float worst = 0;
        long[][] generated = fx.Model.GreedyGenerate(
            fx.Golden(name, "input_ids"),
            fx.Golden(name, "attention_mask"),
            fx.GoldenOrNull(name, "pixel_values"),
            fx.GoldenOrNull(name, "pixel_attention_mask"),
            expected.Length,
            (step, logits) => worst = Math.Max(worst, TinyModelFixture.MaxAbsDiff(logits[0], goldenSteps[step])));
        Assert.Equal(expected, generated[0]);
        Assert.True(worst <= Tolerance, $"step logits: max |diff| {worst}");
    }

    [Fact]
    public void Left_padded_batch_generates_hf_tokens_for_every_row()
    {
        const string Name = "batch2_padded";
        using var scope = torch.NewDisposeScope();
        long[][] expected = fx.Case(Name).GetProperty("generate_new_ids").Deserialize<long[][]>()!;
        long[][] generated = fx.Model.GreedyGenerate(
            fx.Golden(Name, "input_ids"), fx.Golden(Name, "attention_mask"),
            fx.Golden(Name, "pixel_values"), fx.Golden(Name, "pixel_attention_mask"), expected[0].Length);
        Assert.Equal(expected.Length, generated.Length);
        for (int row = 0; row < expected.Length; row++)
        {
            Assert.Equal(expected[row], generated[row]);
        }
    }

    [Fact]
    public void Partial_mask_image_reproduces_hf_patch_mask_and_vision_position_ids()
    {
        const string Name = "partial_mask_image";
        using var scope = torch.NewDisposeScope();
        var (patchMask, positionIds) = fx.Model.VisionPositions(fx.Golden(Name, "pixel_values"), fx.Golden(Name, "pixel_attention_mask"));
        long[] expectedMask = fx.Case(Name).GetProperty("patch_attention_mask").Deserialize<long[][][]>()!.SelectMany(a => a).SelectMany(a => a).ToArray();
        long[] expectedIds = fx.Case(Name).GetProperty("vision_position_ids").Deserialize<long[]>()!;
        Assert.Equal(expectedMask, patchMask.to_type(ScalarType.Int64).data<long>().ToArray());
        Assert.Equal(expectedIds, positionIds.data<long>().ToArray());
    }

    [Fact]
    public void Full_frame_vision_position_ids_are_the_identity_of_the_original_algorithm()
    {
        using var scope = torch.NewDisposeScope();
        var (_, positionIds) = fx.Model.VisionPositions(fx.Golden("single_image", "pixel_values"), null);
        long[] expected = fx.Json.GetProperty("meta").GetProperty("vision_position_ids_version_note")
            .GetProperty("full_image_position_ids_this_reference").Deserialize<long[]>()!;
        Assert.Equal(expected, positionIds.data<long>().ToArray());
    }

    [Fact]
    public void Rope_inverse_frequencies_with_llama3_scaling_match_hf()
    {
        float[] expected = fx.Json.GetProperty("meta").GetProperty("rope_inv_freq").Deserialize<float[]>()!;
        float[] actual = fx.Model.Module.model.text_model.Rope.InvFreq.data<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-7 * Math.Abs(expected[i]), $"inv_freq[{i}]: {actual[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Image_token_count_mismatch_is_a_clear_error()
    {
        using var scope = torch.NewDisposeScope();
        Tensor ids = fx.Golden("single_image", "input_ids");
        Tensor features = fx.Model.EncodeImages(fx.Golden("split_2x2", "pixel_values"), null); // 5 frames, prompt has 1
        var ex = Assert.Throws<ArgumentException>(() => fx.Model.MergeImageFeatures(fx.Model.EmbedTokens(ids), ids, features));
        Assert.Contains("4 <image> tokens", ex.Message, StringComparison.Ordinal);
        Assert.Contains("20 features", ex.Message, StringComparison.Ordinal);
    }

    private Tensor Embed(string name)
    {
        Tensor ids = fx.Golden(name, "input_ids");
        Tensor embeds = fx.Model.EmbedTokens(ids);
        Tensor? pixels = fx.GoldenOrNull(name, "pixel_values");
        return pixels is null
            ? embeds
            : fx.Model.MergeImageFeatures(embeds, ids, fx.Model.EncodeImages(pixels, fx.Golden(name, "pixel_attention_mask")));
    }
}
