using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Idefics3.Checkpoints;
using Idefics3.Configuration;
using Idefics3.Templates;
using Xunit.Abstractions;

namespace Idefics3.Tests.Campaign;

/// <summary>
/// Corrupt model folders (a copy of the tiny checkpoint with one thing broken): configs that disagree with each other or
/// the weights, non-finite values, missing or oversized files, devices and FIFOs in place of files, broken safetensors
/// headers, NaN norm weights, hostile chat templates. Loading must fail with <see cref="ConfigurationException"/>,
/// <see cref="CheckpointException"/> or <see cref="TemplateException"/> naming the file, fast and within its memory
/// bound; a folder that is still valid must load.
/// </summary>
[Collection(CampaignGroup.Name)]
public sealed class CorruptCheckpointCampaign
{
    private readonly CampaignProbe _probe;

    public CorruptCheckpointCampaign(ITestOutputHelper output) => _probe = new CampaignProbe(output);

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>
        {
            { "config: rms_norm_eps -1", "config.json" },
            { "config: rms_norm_eps 1e400", "config.json" },
            { "config: max_position_embeddings 0", "config.json" },
            { "config: vision image_size 112 (tiles are 56)", "preprocessor_config.json" },
            { "config: not JSON", "config.json" },
            { "config: 20 MB of spaces", "config.json" },
            { "config: empty", "config.json" },
            { "config: a FIFO", "config.json" },
            { "config: 100,000 nested arrays", "config.json" },
            { "preprocessor: missing", "preprocessor_config.json" },
            { "preprocessor: tile 64", "preprocessor_config.json" },
            { "preprocessor: invalid UTF-8", "preprocessor_config.json" },
            { "chat template: 4000 nested parentheses", "chat_template.json" },
            { "chat template: 8000 nested for blocks", "chat_template.json" },
            { "chat template: not JSON", "chat_template.json" },
            { "chat template: array of garbage", "chat_template.json" },
            { "weights: header not UTF-8", "model.safetensors" },
            { "weights: truncated to half", "model.safetensors" },
            { "weights: header length 2^63", "model.safetensors" },
            { "weights: 30 MB header of spaces", "model.safetensors" },
            { "weights: NaN in a norm", "model.safetensors" },
            { "weights: missing", "model.safetensors" },
        };
        int flips = CampaignProbe.Large ? 200 : 12;
        for (int seed = 0; seed < flips; seed++)
        {
            data.Add($"weights: header bit flips, seed {seed}", "model.safetensors");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_corrupt_folder_fails_at_load_naming_the_file(string name, string file)
    {
        string folder = TestFixtures.CopyTinyModel("idefics3-campaign-ckpt");
        try
        {
            bool mustFail = Corrupt(folder, name);
            Exception? error = await _probe.RunAsync(
                name,
                async () =>
                {
                    using Idefics3Engine engine = await Idefics3Engine.LoadAsync(folder, new Idefics3EngineOptions { DType = ModelDType.Float32 });
                },
                maxSeconds: 20,
                maxGrowthMb: 400,
                typeof(ConfigurationException),
                typeof(CheckpointException),
                typeof(TemplateException));
            if (mustFail)
            {
                Assert.NotNull(error);
                if (error is not TemplateException)
                {
                    Assert.Contains(file, error.Message, StringComparison.Ordinal);
                }
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_folder_without_a_usable_chat_template_fails_requests_with_a_ConfigurationException()
    {
        string folder = TestFixtures.CopyTinyModel("idefics3-campaign-ckpt");
        try
        {
            File.WriteAllText(Path.Combine(folder, "chat_template.json"), "{\"chat_template\": [1, {\"name\": 2}, {\"name\": \"default\"}]}");
            File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), "{}");
            using Idefics3Engine engine = await Idefics3Engine.LoadAsync(folder, new Idefics3EngineOptions { DType = ModelDType.Float32 });
            var error = await Assert.ThrowsAsync<ConfigurationException>(() => engine.GenerateAsync([global::Idefics3.Processing.PromptMessage.FromText("user", "Hi")]));
            Assert.Contains("chat template", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Breaks one thing; returns whether loading must fail (random bit flips may leave a valid header).</summary>
    private static bool Corrupt(string folder, string name)
    {
        string config = Path.Combine(folder, "config.json");
        string weights = Path.Combine(folder, "model.safetensors");
        string preprocessor = Path.Combine(folder, "preprocessor_config.json");
        string template = Path.Combine(folder, "chat_template.json");
        switch (name)
        {
            case "config: rms_norm_eps -1":
                EditJson(config, n => n["text_config"]!["rms_norm_eps"] = -1);
                break;
            case "config: rms_norm_eps 1e400":
                File.WriteAllText(config, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(config), "\"rms_norm_eps\": *[0-9.eE+-]+", "\"rms_norm_eps\": 1e400"));
                Assert.Contains("1e400", File.ReadAllText(config), StringComparison.Ordinal);
                break;
            case "config: max_position_embeddings 0":
                EditJson(config, n => n["text_config"]!["max_position_embeddings"] = 0);
                break;
            case "config: vision image_size 112 (tiles are 56)":
                EditJson(config, n => n["vision_config"]!["image_size"] = 112);
                EditJson(Path.Combine(folder, "processor_config.json"), n => n["image_seq_len"] = 16); // (112/14)^2 / 2^2: only the tile size disagrees
                break;
            case "config: not JSON":
                File.WriteAllText(config, "{ this is not json");
                break;
            case "config: 20 MB of spaces":
                File.WriteAllText(config, new string(' ', 20 * 1024 * 1024) + "{}");
                break;
            case "config: empty":
                File.WriteAllText(config, string.Empty);
                break;
            case "config: a FIFO":
                File.Delete(config);
                using (Process mkfifo = Process.Start("mkfifo", config))
                {
                    mkfifo.WaitForExit();
                }

                break;
            case "config: 100,000 nested arrays":
                File.WriteAllText(config, new string('[', 100_000));
                break;
            case "preprocessor: missing":
                File.Delete(preprocessor);
                break;
            case "preprocessor: tile 64":
                EditJson(preprocessor, n => n["max_image_size"]!["longest_edge"] = 64);
                break;
            case "preprocessor: invalid UTF-8":
                File.WriteAllBytes(preprocessor, [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}']);
                break;
            case "chat template: 4000 nested parentheses":
                File.WriteAllText(template, JsonSerializer.Serialize(new { chat_template = "{{ " + new string('(', 4000) + "1" + new string(')', 4000) + " }}" }));
                break;
            case "chat template: 8000 nested for blocks":
                File.WriteAllText(template, JsonSerializer.Serialize(new { chat_template = string.Concat(Enumerable.Repeat("{% for m in messages %}", 8000)) + string.Concat(Enumerable.Repeat("{% endfor %}", 8000)) }));
                break;
            case "chat template: not JSON":
                File.WriteAllText(template, "\"chat_template\": ");
                break;
            case "chat template: array of garbage":
                File.WriteAllText(template, "{\"chat_template\": [1, {\"name\": 2}, {\"name\": \"default\"}]}");
                return false; // no usable template: the model loads, and requests fail with a ConfigurationException (tested below)
            case "weights: header not UTF-8":
                PatchHeader(weights, header => header.Replace("\"dtype\"", "\"dt\u00FFpe\"", StringComparison.Ordinal), latin1: true);
                break;
            case "weights: truncated to half":
                using (var stream = new FileStream(weights, FileMode.Open))
                {
                    stream.SetLength(stream.Length / 2);
                }

                break;
            case "weights: header length 2^63":
                using (var stream = new FileStream(weights, FileMode.Open))
                {
                    byte[] prefix = new byte[8];
                    BinaryPrimitives.WriteUInt64LittleEndian(prefix, 1UL << 63);
                    stream.Write(prefix);
                }

                break;
            case "weights: 30 MB header of spaces":
                {
                    byte[] body = File.ReadAllBytes(weights);
                    ulong length = BinaryPrimitives.ReadUInt64LittleEndian(body);
                    byte[] header = body[8..(8 + (int)length)];
                    byte[] padded = [.. header, .. Enumerable.Repeat((byte)' ', 30 * 1024 * 1024)];
                    byte[] prefix = new byte[8];
                    BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded.Length);
                    File.WriteAllBytes(weights, [.. prefix, .. padded, .. body[(8 + (int)length)..]]);
                    return false; // legal (and bounded by the 100 MB header limit): must load or fail typed
                }

            case "weights: NaN in a norm":
                {
                    byte[] body = File.ReadAllBytes(weights);
                    ulong length = BinaryPrimitives.ReadUInt64LittleEndian(body);
                    using JsonDocument doc = JsonDocument.Parse(body.AsMemory(8, (int)length));
                    JsonProperty norm = doc.RootElement.EnumerateObject().First(p => p.Name.Contains("norm", StringComparison.Ordinal) && p.Value.GetProperty("dtype").GetString() == "F32");
                    long begin = norm.Value.GetProperty("data_offsets")[0].GetInt64();
                    BinaryPrimitives.WriteSingleLittleEndian(body.AsSpan(8 + (int)length + (int)begin), float.NaN);
                    File.WriteAllBytes(weights, body);
                    break;
                }

            case "weights: missing":
                File.Delete(weights);
                break;
            default:
                {
                    int seed = int.Parse(name[(name.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                    byte[] body = File.ReadAllBytes(weights);
                    int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(body);
                    var random = new Random(seed);
                    for (int k = 0; k < 1 + (seed % 4); k++)
                    {
                        int at = 8 + random.Next(length);
                        body[at] ^= (byte)(1 << random.Next(8));
                    }

                    File.WriteAllBytes(weights, body);
                    return false;
                }
        }

        return true;
    }

    private static void EditJson(string path, Action<JsonNode> edit)
    {
        JsonNode node = JsonNode.Parse(File.ReadAllText(path))!;
        edit(node);
        File.WriteAllText(path, node.ToJsonString());
    }

    private static void PatchHeader(string path, Func<string, string> edit, bool latin1)
    {
        byte[] body = File.ReadAllBytes(path);
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(body);
        string header = Encoding.Latin1.GetString(body, 8, length);
        string edited = edit(header);
        byte[] bytes = latin1 ? Encoding.Latin1.GetBytes(edited) : Encoding.UTF8.GetBytes(edited);
        Assert.Equal(length, bytes.Length);
        bytes.CopyTo(body, 8);
        File.WriteAllBytes(path, body);
    }
}
