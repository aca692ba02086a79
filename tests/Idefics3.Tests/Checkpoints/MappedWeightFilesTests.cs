using Idefics3.Checkpoints;
using Idefics3.Generation;
using Idefics3.Processing;
using Idefics3.Tests.Engine;

namespace Idefics3.Tests.Checkpoints;

/// <summary>
/// Weight files changed under a loaded engine's memory map: a truncation or an in-place write is reported by the next
/// request as a <see cref="CheckpointException"/> (instead of SIGBUS or silently different answers); a new file renamed
/// over the old one is not a change, and the engine keeps answering from the file it mapped.
/// </summary>
public sealed class MappedWeightFilesTests
{
    private static readonly GenerationOptions s_short = new() { MaxNewTokens = 4 };

    [Fact]
    public async Task A_weight_file_truncated_under_the_engine_fails_the_next_request_with_a_checkpoint_exception()
    {
        string folder = TestFixtures.CopyTinyModel("idefics3-mapped-weights");
        string weights = Path.Combine(folder, "model.safetensors");
        await using Idefics3Engine engine = await LoadAsync(folder);
        Assert.Equal(1, engine.Network.MappedFileCount);
        _ = await engine.GenerateAsync(EngineFixture.TextConversation(), s_short);

        long length = new FileInfo(weights).Length;
        using (var stream = new FileStream(weights, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.SetLength(length / 2);
        }

        var error = await Assert.ThrowsAsync<CheckpointException>(() => engine.GenerateAsync(EngineFixture.TextConversation(), s_short));
        Assert.Equal(weights, error.File);
        Assert.Contains($"truncated from {length} to {length / 2} bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_weight_file_rewritten_in_place_fails_the_next_request_instead_of_changing_the_answer()
    {
        string folder = TestFixtures.CopyTinyModel("idefics3-mapped-weights");
        string weights = Path.Combine(folder, "model.safetensors");
        await using Idefics3Engine engine = await LoadAsync(folder);
        _ = await engine.GenerateAsync(EngineFixture.TextConversation(), s_short);

        // Same length, one byte of the last tensor's data changed, as an in-place copy over the file would do.
        using (var stream = new FileStream(weights, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            stream.Seek(-1, SeekOrigin.End);
            int last = stream.ReadByte();
            stream.Seek(-1, SeekOrigin.End);
            stream.WriteByte((byte)(last ^ 0x40));
        }

        File.SetLastWriteTimeUtc(weights, DateTime.UtcNow.AddSeconds(5)); // coarse file-system clocks
        var error = await Assert.ThrowsAsync<CheckpointException>(() => engine.GenerateAsync(EngineFixture.TextConversation(), s_short));
        Assert.Contains("rewritten in place", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_file_renamed_over_the_weights_leaves_the_engine_on_the_file_it_mapped()
    {
        string folder = TestFixtures.CopyTinyModel("idefics3-mapped-weights");
        string weights = Path.Combine(folder, "model.safetensors");
        await using Idefics3Engine engine = await LoadAsync(folder);
        GenerationResult before = await engine.GenerateAsync(EngineFixture.SplitConversation(), s_short);

        // A different checkpoint (every byte of the data flipped) written to a temporary name and renamed into place.
        byte[] bytes = await File.ReadAllBytesAsync(weights);
        long dataStart = 8 + BitConverter.ToInt64(bytes, 0);
        for (long i = dataStart; i < bytes.Length; i++)
        {
            bytes[i] ^= 0x01;
        }

        string temporary = weights + ".new";
        await File.WriteAllBytesAsync(temporary, bytes);
        File.Move(temporary, weights, overwrite: true);

        GenerationResult after = await engine.GenerateAsync(EngineFixture.SplitConversation(), s_short);
        Assert.Equal(before.OutputIds, after.OutputIds);
        Assert.Equal(before.Text, after.Text);
    }

    [Fact]
    public async Task Weights_converted_at_load_are_not_watched()
    {
        // A float32 file loaded in bfloat16 is copied while converting: the engine never reads the file again.
        string folder = TestFixtures.CopyTinyModel("idefics3-mapped-weights");
        await using Idefics3Engine engine = await Idefics3Engine.LoadAsync(folder, new Idefics3EngineOptions { DType = ModelDType.BFloat16 });
        Assert.Equal(0, engine.Network.MappedFileCount);
        using (var stream = new FileStream(Path.Combine(folder, "model.safetensors"), FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.SetLength(100);
        }

        GenerationResult result = await engine.GenerateAsync(EngineFixture.TextConversation(), s_short);
        Assert.NotEmpty(result.OutputIds);
    }

    [Fact]
    public async Task Weights_read_into_memory_answer_the_same_and_no_longer_depend_on_the_files()
    {
        string folder = TestFixtures.CopyTinyModel("idefics3-mapped-weights");
        GenerationResult mapped;
        await using (Idefics3Engine reference = await LoadAsync(folder))
        {
            mapped = await reference.GenerateAsync(EngineFixture.SplitConversation(), s_short);
        }

        await using Idefics3Engine engine = await Idefics3Engine.LoadAsync(
            folder, new Idefics3EngineOptions { DType = ModelDType.Float32, LoadWeightsIntoMemory = true });
        Assert.Equal(0, engine.Network.MappedFileCount);
        GenerationResult resident = await engine.GenerateAsync(EngineFixture.SplitConversation(), s_short);
        Assert.Equal(mapped.OutputIds, resident.OutputIds);

        // Truncating the file would crash a mapped engine's next page read; this one no longer reads the file.
        using (var stream = new FileStream(Path.Combine(folder, "model.safetensors"), FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.SetLength(100);
        }

        GenerationResult after = await engine.GenerateAsync(EngineFixture.SplitConversation(), s_short);
        Assert.Equal(mapped.OutputIds, after.OutputIds);
    }

    private static Task<Idefics3Engine> LoadAsync(string folder) =>
        Idefics3Engine.LoadAsync(folder, new Idefics3EngineOptions { DType = ModelDType.Float32 });
}
