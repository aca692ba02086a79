using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Idefics3.PeerBench;

/// <summary>
/// Writes the language model of a bfloat16 safetensors model folder (HF Llama names, as in an Idefics3 checkpoint) as
/// a llama.cpp GGUF v3 file (architecture "llama", BF16 tensors, a placeholder SentencePiece vocabulary of the same
/// size). The weights are copied unchanged (no q/k permutation: the values are random, only the speed is compared).
/// </summary>
internal static class GgufWriter
{
    private const uint Alignment = 32;
    private const uint TypeBf16 = 30, TypeF32 = 0;

    public static void Write(string modelFolder, string ggufPath)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(modelFolder, "config.json")));
        JsonElement t = config.RootElement.GetProperty("text_config");
        int hidden = t.GetProperty("hidden_size").GetInt32();
        int layers = t.GetProperty("num_hidden_layers").GetInt32();
        int heads = t.GetProperty("num_attention_heads").GetInt32();
        int kvHeads = t.TryGetProperty("num_key_value_heads", out JsonElement kv) ? kv.GetInt32() : heads;
        int headDim = t.TryGetProperty("head_dim", out JsonElement hd) ? hd.GetInt32() : hidden / heads;
        int vocab = t.GetProperty("vocab_size").GetInt32();
        bool tied = config.RootElement.TryGetProperty("tie_word_embeddings", out JsonElement tie) && tie.GetBoolean();

        // HF name -> GGUF name.
        var names = new List<(string Hf, string Gguf)> { ("model.text_model.embed_tokens.weight", "token_embd.weight"), ("model.text_model.norm.weight", "output_norm.weight") };
        if (!tied)
        {
            names.Add(("lm_head.weight", "output.weight"));
        }

        for (int i = 0; i < layers; i++)
        {
            string p = $"model.text_model.layers.{i}.";
            names.AddRange(
            [
                (p + "input_layernorm.weight", $"blk.{i}.attn_norm.weight"), (p + "self_attn.q_proj.weight", $"blk.{i}.attn_q.weight"),
                (p + "self_attn.k_proj.weight", $"blk.{i}.attn_k.weight"), (p + "self_attn.v_proj.weight", $"blk.{i}.attn_v.weight"),
                (p + "self_attn.o_proj.weight", $"blk.{i}.attn_output.weight"), (p + "post_attention_layernorm.weight", $"blk.{i}.ffn_norm.weight"),
                (p + "mlp.gate_proj.weight", $"blk.{i}.ffn_gate.weight"), (p + "mlp.up_proj.weight", $"blk.{i}.ffn_up.weight"),
                (p + "mlp.down_proj.weight", $"blk.{i}.ffn_down.weight"),
            ]);
        }

        var sources = SafetensorsIndex.Read(modelFolder);
        using var output = new BinaryWriter(File.Create(ggufPath));
        output.Write(Encoding.ASCII.GetBytes("GGUF"));
        output.Write(3u);
        output.Write((ulong)names.Count);
        var kvs = new List<Action<BinaryWriter>>();
        void Kv(string key, uint type, Action<BinaryWriter> value) => kvs.Add(w => { WriteString(w, key); w.Write(type); value(w); });
        Kv("general.architecture", 8, w => WriteString(w, "llama"));
        Kv("general.name", 8, w => WriteString(w, Path.GetFileName(modelFolder)));
        Kv("general.alignment", 4, w => w.Write(Alignment));
        Kv("general.file_type", 4, w => w.Write(32u)); // LLAMA_FTYPE_MOSTLY_BF16
        Kv("llama.context_length", 4, w => w.Write((uint)t.GetProperty("max_position_embeddings").GetInt32()));
        Kv("llama.embedding_length", 4, w => w.Write((uint)hidden));
        Kv("llama.block_count", 4, w => w.Write((uint)layers));
        Kv("llama.feed_forward_length", 4, w => w.Write((uint)t.GetProperty("intermediate_size").GetInt32()));
        Kv("llama.attention.head_count", 4, w => w.Write((uint)heads));
        Kv("llama.attention.head_count_kv", 4, w => w.Write((uint)kvHeads));
        Kv("llama.attention.key_length", 4, w => w.Write((uint)headDim));
        Kv("llama.attention.value_length", 4, w => w.Write((uint)headDim));
        Kv("llama.rope.dimension_count", 4, w => w.Write((uint)headDim));
        Kv("llama.attention.layer_norm_rms_epsilon", 6, w => w.Write((float)t.GetProperty("rms_norm_eps").GetDouble()));
        Kv("llama.rope.freq_base", 6, w => w.Write((float)t.GetProperty("rope_theta").GetDouble()));
        Kv("llama.vocab_size", 4, w => w.Write((uint)vocab));
        Kv("tokenizer.ggml.model", 8, w => WriteString(w, "llama"));
        Kv("tokenizer.ggml.tokens", 9, w =>
        {
            w.Write(8u);
            w.Write((ulong)vocab);
            for (int i = 0; i < vocab; i++)
            {
                WriteString(w, Token(i));
            }
        });
        Kv("tokenizer.ggml.scores", 9, w =>
        {
            w.Write(6u);
            w.Write((ulong)vocab);
            for (int i = 0; i < vocab; i++)
            {
                w.Write(-(float)i);
            }
        });
        Kv("tokenizer.ggml.token_type", 9, w =>
        {
            w.Write(5u);
            w.Write((ulong)vocab);
            for (int i = 0; i < vocab; i++)
            {
                w.Write(i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1);
            }
        });
        Kv("tokenizer.ggml.bos_token_id", 4, w => w.Write(1u));
        Kv("tokenizer.ggml.eos_token_id", 4, w => w.Write(2u));
        Kv("tokenizer.ggml.unknown_token_id", 4, w => w.Write(0u));
        output.Write((ulong)kvs.Count);
        foreach (Action<BinaryWriter> write in kvs)
        {
            write(output);
        }

        ulong offset = 0;
        var plan = new List<(SafetensorsIndex.Source Source, ulong Offset)>();
        foreach ((string hf, string gguf) in names)
        {
            SafetensorsIndex.Source s = sources[hf];
            WriteString(output, gguf);
            output.Write((uint)s.Shape.Length);
            for (int d = s.Shape.Length - 1; d >= 0; d--)
            {
                output.Write((ulong)s.Shape[d]);   // GGUF lists the fastest-varying dimension first
            }

            // llama.cpp's element-wise ops want float32 norm weights (its converter writes 1-D tensors as F32).
            bool widen = s.Dtype == "BF16" && s.Shape.Length == 1;
            output.Write(widen ? TypeF32 : s.Dtype switch { "BF16" => TypeBf16, "F32" => TypeF32, _ => throw new NotSupportedException(s.Dtype) });
            output.Write(offset);
            plan.Add((s, offset));
            offset = Align(offset + (ulong)(widen ? s.Length * 2 : s.Length));
        }

        Pad(output);
        long dataStart = output.BaseStream.Position;
        foreach ((SafetensorsIndex.Source s, ulong at) in plan)
        {
            output.BaseStream.Position = dataStart + (long)at;
            using FileStream input = File.OpenRead(s.File);
            input.Position = s.Offset;
            if (s.Dtype == "BF16" && s.Shape.Length == 1)
            {
                byte[] raw = new byte[s.Length];
                input.ReadExactly(raw);
                for (int i = 0; i < raw.Length; i += 2)
                {
                    output.Write(BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(i)) << 16));
                }
            }
            else
            {
                CopyBytes(input, output.BaseStream, s.Length);
            }
        }

        Pad(output);
    }

    private static string Token(int i) => i switch
    {
        0 => "<unk>",
        1 => "<s>",
        2 => "</s>",
        < 259 => $"<0x{i - 3:X2}>",
        _ => $"▁t{i}",
    };

    private static ulong Align(ulong value) => (value + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter w)
    {
        long position = w.BaseStream.Position;
        long padded = (long)Align((ulong)position);
        w.Write(new byte[padded - position]);
    }

    private static void CopyBytes(Stream input, Stream output, long count)
    {
        byte[] buffer = new byte[1 << 20];
        while (count > 0)
        {
            int read = input.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
            if (read <= 0)
            {
                throw new EndOfStreamException();
            }

            output.Write(buffer, 0, read);
            count -= read;
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}

/// <summary>Where each tensor of a safetensors model folder lies (file, byte offset, length, dtype, shape).</summary>
internal static class SafetensorsIndex
{
    public sealed record Source(string File, long Offset, long Length, string Dtype, long[] Shape);

    public static Dictionary<string, Source> Read(string folder)
    {
        var result = new Dictionary<string, Source>();
        byte[] prefix = new byte[8];
        foreach (string file in Directory.EnumerateFiles(folder, "*.safetensors"))
        {
            using FileStream stream = File.OpenRead(file);
            stream.ReadExactly(prefix);
            long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            byte[] header = new byte[headerLength];
            stream.ReadExactly(header);
            using var doc = JsonDocument.Parse(header);
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    continue;
                }

                long[] offsets = [.. p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64())];
                result[p.Name] = new Source(
                    file, 8 + headerLength + offsets[0], offsets[1] - offsets[0], p.Value.GetProperty("dtype").GetString()!,
                    [.. p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64())]);
            }
        }

        return result;
    }
}
