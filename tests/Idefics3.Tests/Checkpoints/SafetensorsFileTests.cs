using System.Buffers.Binary;
using Idefics3.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;
using W = Idefics3.Tests.Checkpoints.SafetensorsWriter;

namespace Idefics3.Tests.Checkpoints;

public sealed class SafetensorsFileTests
{
    [Fact]
    public void Aligned_tensors_are_zero_copy_views_of_the_mapped_file()
    {
        using var dir = new TempDir();
        string path = dir.File("a.safetensors");
        W.Write(path, [W.F32("a", [2], 1f, 2f), W.F32("b", [2, 2], 3f, 4f, 5f, 6f)]);
        using var file = SafetensorsFile.Open(path);
        using Tensor b = file.Load("b");
        Assert.Equal([2L, 2], b.shape);
        Assert.Equal([3f, 4f, 5f, 6f], b.data<float>().ToArray());
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(path));
        // a view into the whole-file map: its storage offset is the tensor's position in the file, in elements
        Assert.Equal((8 + headerLength + 8) / 4, b.storage_offset());
    }

    [Fact]
    public void Bf16_and_f16_tensors_load_and_convert_per_tensor()
    {
        using var dir = new TempDir();
        using Tensor source = torch.tensor(new float[] { 1.5f, -2f, 0.25f, 8f });
        using Tensor bf16 = source.to_type(ScalarType.BFloat16);
        using Tensor f16 = source.to_type(ScalarType.Float16);
        W.Write(dir.File("model.safetensors"), [W.FromTensor("x", bf16), W.FromTensor("y", f16)]);
        using var checkpoint = SafetensorsCheckpoint.Open(dir.Path);
        using Tensor xRaw = checkpoint.Load("x", ScalarType.BFloat16);
        using Tensor x = checkpoint.Load("x", ScalarType.Float32);
        using Tensor y = checkpoint.Load("y", ScalarType.Float32);
        Assert.Equal(ScalarType.BFloat16, xRaw.dtype);
        Assert.Equal([1.5f, -2f, 0.25f, 8f], x.data<float>().ToArray());
        Assert.Equal([1.5f, -2f, 0.25f, 8f], y.data<float>().ToArray());
    }

    [Fact]
    public void Unaligned_tensor_is_read_instead_of_mapped()
    {
        using var dir = new TempDir();
        string path = dir.File("u.safetensors");
        string header = W.Header([W.F32("a", [1], 7f)]);
        while ((8 + header.Length) % 4 != 2)
        {
            header += " "; // data starts 2 bytes off a float boundary
        }

        W.Write(path, [W.F32("a", [1], 7f)], header, align: 1);
        using var file = SafetensorsFile.Open(path);
        using Tensor a = file.Load("a");
        Assert.Equal(7f, a.item<float>());
    }

    [Fact]
    public void File_shorter_than_the_length_prefix_is_reported_as_truncated()
    {
        using var dir = new TempDir();
        string path = dir.File("t.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var ex = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
        Assert.Equal(path, ex.File);
    }

    [Fact]
    public void Header_length_beyond_the_file_is_rejected()
    {
        using var dir = new TempDir();
        string path = dir.File("h.safetensors");
        byte[] bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1_000_000);
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains("exceeds", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Header_that_is_not_json_is_rejected()
    {
        using var dir = new TempDir();
        string path = dir.File("j.safetensors");
        W.Write(path, [W.F32("a", [1], 1f)], "{\"a\": {\"dtype\": ");
        var ex = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains("not valid JSON", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Offsets_past_the_end_of_the_data_are_rejected()
    {
        using var dir = new TempDir();
        string path = dir.File("o.safetensors");
        W.Write(path, [W.F32("a", [2], 1f, 2f)]);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - 4).ToArray()); // cut the last float
        var ex = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains("'a'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("run past the end", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlapping_tensors_are_rejected()
    {
        using var dir = new TempDir();
        string path = dir.File("v.safetensors");
        string header = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""";
        W.Write(path, [W.F32("a", [3], 1f, 2f, 3f)], header);
        var ex = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains("overlap", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Byte_count_that_disagrees_with_shape_and_dtype_is_rejected()
    {
        using var dir = new TempDir();
        string path = dir.File("c.safetensors");
        string header = """{"a":{"dtype":"BF16","shape":[3],"data_offsets":[0,8]}}""";
        W.Write(path, [W.F32("a", [2], 1f, 2f)], header);
        var ex = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains("need 6", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_entries_and_unknown_dtypes_are_rejected()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        W.Write(path, [W.F32("a", [1], 1f)], """{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}""");
        Assert.Contains("unknown dtype", Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path)).Message, StringComparison.Ordinal);
        W.Write(path, [W.F32("a", [1], 1f)], """{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""");
        Assert.Contains("non-negative", Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path)).Message, StringComparison.Ordinal);
        W.Write(path, [W.F32("a", [1], 1f)], """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""");
        Assert.Contains("data_offsets", Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path)).Message, StringComparison.Ordinal);
        W.Write(path, [W.F32("a", [1], 1f)], """[1, 2]""");
        Assert.Contains("not a JSON object", Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Loading_an_unsupported_dtype_names_tensor_and_dtype()
    {
        using var dir = new TempDir();
        string path = dir.File("i.safetensors");
        W.Write(path, [new W.Item("ids", "I64", [1], new byte[8])]);
        using var file = SafetensorsFile.Open(path);
        var ex = Assert.Throws<CheckpointException>(() => file.Load("ids"));
        Assert.Contains("'ids'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("I64", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sharded_checkpoint_resolves_names_through_the_index_and_normalises_prefixes()
    {
        using var dir = new TempDir();
        W.Write(dir.File("model-00001-of-00002.safetensors"), [W.F32("model.language_model.norm.weight", [1], 1f)]);
        W.Write(dir.File("model-00002-of-00002.safetensors"), [W.F32("model.vision_tower.post_layernorm.bias", [1], 2f)]);
        File.WriteAllText(dir.File("model.safetensors.index.json"), """
            {"metadata": {"total_size": 8}, "weight_map": {
              "model.language_model.norm.weight": "model-00001-of-00002.safetensors",
              "model.vision_tower.post_layernorm.bias": "model-00002-of-00002.safetensors"}}
            """);
        using var checkpoint = SafetensorsCheckpoint.Open(dir.Path);
        Assert.Equal(["model.text_model.norm.weight", "model.vision_model.post_layernorm.bias"], checkpoint.Names.Order(StringComparer.Ordinal));
        using Tensor bias = checkpoint.Load("model.vision_model.post_layernorm.bias", ScalarType.Float32);
        Assert.Equal(2f, bias.item<float>());
    }

    [Fact]
    public void Index_pointing_at_a_shard_without_the_tensor_is_rejected()
    {
        using var dir = new TempDir();
        W.Write(dir.File("s1.safetensors"), [W.F32("a", [1], 1f)]);
        File.WriteAllText(dir.File("model.safetensors.index.json"), """{"weight_map": {"b": "s1.safetensors"}}""");
        var ex = Assert.Throws<CheckpointException>(() => SafetensorsCheckpoint.Open(dir.Path));
        Assert.Contains("'b'", ex.Message, StringComparison.Ordinal);
        File.WriteAllText(dir.File("model.safetensors.index.json"), """{"weight_map": """);
        Assert.Contains("not valid JSON", Assert.Throws<CheckpointException>(() => SafetensorsCheckpoint.Open(dir.Path)).Message, StringComparison.Ordinal);
        File.WriteAllText(dir.File("model.safetensors.index.json"), """{"weight_map": {"a": "missing.safetensors"}}""");
        Assert.Contains("not found", Assert.Throws<CheckpointException>(() => SafetensorsCheckpoint.Open(dir.Path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Folder_without_weights_is_a_checkpoint_error()
    {
        using var dir = new TempDir();
        Assert.Throws<CheckpointException>(() => SafetensorsCheckpoint.Open(dir.Path));
    }
}
