using System.Text.Json;
using Idefics3.Generation;
using Idefics3.Processing;
using Idefics3.Tests.Generation;

namespace Idefics3.Tests.Engine;

public sealed class Idefics3EngineTests : IClassFixture<EngineFixture>
{
    private static readonly ProcessorOptions s_goldenSingle = new() { DoImageSplitting = false, LegacyDoubleBos = true };
    private static readonly ProcessorOptions s_goldenSplit = new() { LongestEdge = 112, LegacyDoubleBos = true };
    private readonly EngineFixture _fixture;

    public Idefics3EngineTests(EngineFixture fixture) => _fixture = fixture;

    private Idefics3Engine Engine => _fixture.Engine;

    [Theory]
    [InlineData("text_only")]
    [InlineData("single_image")]
    [InlineData("split_2x2")]
    public async Task Greedy_generation_reproduces_the_hf_prompt_ids_and_the_ten_greedy_tokens(string name)
    {
        (IReadOnlyList<PromptMessage> conversation, ProcessorOptions processing) = name switch
        {
            "text_only" => (EngineFixture.TextConversation(), new ProcessorOptions()),
            "single_image" => (EngineFixture.SingleImageConversation(), s_goldenSingle),
            _ => (EngineFixture.SplitConversation(), s_goldenSplit),
        };
        JsonElement golden = _fixture.Case(name);

        GenerationResult result = await Engine.GenerateAsync(conversation, new GenerationOptions { MaxNewTokens = 10 }, processing);

        Assert.Equal(EngineFixture.FirstRow(golden.GetProperty("input_ids")), result.InputIds);
        Assert.Equal(EngineFixture.FirstRow(golden.GetProperty("generate_new_ids")), result.OutputIds);
        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Equal(result.InputIds.Count, result.Usage.InputTokens);
        Assert.Equal(golden.GetProperty("num_image_tokens").GetInt32(), result.Usage.ImageTokens);
        Assert.Equal(10, result.Usage.OutputTokens);
    }

    [Fact]
    public async Task Streaming_deltas_concatenate_to_the_non_streaming_text_and_the_last_update_carries_usage()
    {
        var options = new GenerationOptions { MaxNewTokens = 12 };
        GenerationResult whole = await Engine.GenerateAsync(EngineFixture.SplitConversation(), options, s_goldenSplit);

        var text = new System.Text.StringBuilder();
        var ids = new List<int>();
        GenerationUpdate? last = null;
        await foreach (GenerationUpdate update in Engine.GenerateStreamingAsync(EngineFixture.SplitConversation(), options, s_goldenSplit))
        {
            Assert.Null(last); // nothing after the final update
            text.Append(update.Text);
            ids.AddRange(update.TokenIds);
            if (update.IsFinal)
            {
                last = update;
            }
        }

        Assert.Equal(whole.Text, text.ToString());
        Assert.Equal(whole.OutputIds, ids);
        Assert.NotNull(last!.Usage);
        Assert.Equal(12, last.Usage!.OutputTokens);
        Assert.True(last.Timings!.TimeToFirstTokenMilliseconds > 0);
    }

    [Fact]
    public async Task Sampling_is_deterministic_per_seed_and_differs_across_seeds()
    {
        var a = new GenerationOptions { MaxNewTokens = 16, Temperature = 1.5f, Seed = 11 };
        GenerationResult first = await Engine.GenerateAsync(EngineFixture.TextConversation(), a);
        GenerationResult again = await Engine.GenerateAsync(EngineFixture.TextConversation(), a);
        GenerationResult other = await Engine.GenerateAsync(EngineFixture.TextConversation(), a with { Seed = 12 });

        Assert.Equal(first.OutputIds, again.OutputIds);
        Assert.NotEqual(first.OutputIds, other.OutputIds);
        Assert.Equal(11, first.Seed);
    }

    [Fact]
    public async Task A_stop_sequence_spanning_two_tokens_ends_generation_and_is_not_emitted()
    {
        // Greedy output of split_2x2 is 142 212 249 71 62 ...: tokens 71 and 62 are the bytes 'G' and '>'.
        GenerationResult plain = await Engine.GenerateAsync(EngineFixture.SplitConversation(), new GenerationOptions { MaxNewTokens = 10 }, s_goldenSplit);
        int stopAt = plain.Text.IndexOf("G>", StringComparison.Ordinal);
        Assert.True(stopAt > 0, "the greedy text should contain 'G>'");

        GenerationResult stopped = await Engine.GenerateAsync(
            EngineFixture.SplitConversation(), new GenerationOptions { MaxNewTokens = 10, StopSequences = ["G>"] }, s_goldenSplit);

        Assert.Equal(FinishReason.StopSequence, stopped.FinishReason);
        Assert.Equal("G>", stopped.StopSequence);
        Assert.Equal(plain.Text[..stopAt], stopped.Text);
        Assert.Equal(plain.OutputIds.Take(5), stopped.OutputIds);
    }

    [Fact]
    public async Task A_stop_token_id_ends_generation_with_the_token_included_as_for_end_of_sequence()
    {
        // Greedy output of split_2x2 is 142 212 249 71 62 ...
        GenerationResult result = await Engine.GenerateAsync(
            EngineFixture.SplitConversation(), new GenerationOptions { MaxNewTokens = 10, StopTokenIds = [71] }, s_goldenSplit);

        Assert.Equal(FinishReason.Stop, result.FinishReason);
        Assert.Equal(new[] { 142, 212, 249, 71 }, result.OutputIds);
    }

    [Fact]
    public async Task Min_new_tokens_keeps_end_of_sequence_tokens_from_being_chosen_early()
    {
        // Make the first greedy token (142) an end-of-sequence token: without MinNewTokens generation ends at once.
        var stopAtFirst = new GenerationOptions { MaxNewTokens = 6, StopTokenIds = [142] };
        GenerationResult ended = await Engine.GenerateAsync(EngineFixture.SplitConversation(), stopAtFirst, s_goldenSplit);
        GenerationResult held = await Engine.GenerateAsync(EngineFixture.SplitConversation(), stopAtFirst with { MinNewTokens = 3 }, s_goldenSplit);

        Assert.Equal(new[] { 142 }, ended.OutputIds);
        Assert.True(held.OutputIds.Count >= 3);
        Assert.DoesNotContain(142, held.OutputIds.Take(3));
    }

    [Fact]
    public async Task Logprobs_are_the_raw_log_softmax_with_the_requested_alternatives()
    {
        GenerationResult result = await Engine.GenerateAsync(
            EngineFixture.TextConversation(), new GenerationOptions { MaxNewTokens = 4, LogProbs = true, TopLogProbs = 3, RepetitionPenalty = 1.3f });

        Assert.NotNull(result.LogProbs);
        Assert.Equal(4, result.LogProbs!.Count);
        for (int i = 0; i < 4; i++)
        {
            TokenLogProb lp = result.LogProbs[i];
            Assert.Equal(result.OutputIds[i], lp.TokenId);
            Assert.Equal(3, lp.TopLogProbs.Count);
            Assert.True(lp.LogProb <= 0);
            Assert.True(lp.TopLogProbs[0].LogProb >= lp.TopLogProbs[1].LogProb);
            Assert.True(lp.LogProb <= lp.TopLogProbs[0].LogProb);
        }
    }

    [Fact]
    public async Task A_prompt_longer_than_the_context_window_fails_before_compute_and_says_by_how_much()
    {
        int window = Engine.ContextWindow;
        var ex = await Assert.ThrowsAsync<ContextWindowExceededException>(() =>
            Engine.GenerateAsync(EngineFixture.TextConversation(), new GenerationOptions { MaxNewTokens = window }));

        Assert.Equal(window, ex.ContextWindow);
        Assert.Equal(ex.PromptTokens, ex.Excess);
        Assert.Contains($"{ex.Excess} more than", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_largest_output_budget_is_refused_as_over_the_context_window_without_overflow()
    {
        var ex = await Assert.ThrowsAsync<ContextWindowExceededException>(() =>
            Engine.GenerateAsync(EngineFixture.TextConversation(), new GenerationOptions { MaxNewTokens = int.MaxValue }));
        Assert.Equal(int.MaxValue, ex.RequestedOutputTokens);
        Assert.Equal((long)ex.PromptTokens + int.MaxValue - Engine.ContextWindow, ex.Excess);
        Assert.True(ex.Excess > 0);
    }

    [Fact]
    public async Task Image_detail_is_reduced_to_fit_the_context_window_only_when_allowed()
    {
        // A copy of the tiny model with a 64-token window: the 2x2-split prompt (69 tokens) does not fit, one frame does.
        string folder = Path.Combine(Path.GetTempPath(), "idefics3-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            foreach (string file in Directory.EnumerateFiles(EngineFixture.ModelDirectory))
            {
                File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
            }

            string configPath = Path.Combine(folder, "config.json");
            var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))!;
            config["text_config"]!["max_position_embeddings"] = 64;
            File.WriteAllText(configPath, config.ToJsonString());
            var options = new GenerationOptions { MaxNewTokens = 5 };

            await using (Idefics3Engine strict = await Idefics3Engine.LoadAsync(folder, new Idefics3EngineOptions { DType = ModelDType.Float32 }))
            {
                var ex = await Assert.ThrowsAsync<ContextWindowExceededException>(() => strict.GenerateAsync(EngineFixture.SplitConversation(), options, s_goldenSplit));
                Assert.Equal(20, ex.ImageTokens);
            }

            await using Idefics3Engine lenient = await Idefics3Engine.LoadAsync(folder, new Idefics3EngineOptions { DType = ModelDType.Float32, ReduceImageDetailToFit = true });
            GenerationResult result = await lenient.GenerateAsync(EngineFixture.SplitConversation(), options, s_goldenSplit);
            Assert.Equal(4, result.Usage.ImageTokens); // one frame of image_seq_len 4 instead of 5 frames
            Assert.True(result.Usage.InputTokens + 5 <= 64);
            Assert.Equal(5, result.OutputIds.Count);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Cancellation_during_decode_stops_generation_and_throws()
    {
        using var cts = new CancellationTokenSource();
        int updates = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (GenerationUpdate update in Engine.GenerateStreamingAsync(
                EngineFixture.TextConversation(), new GenerationOptions { MaxNewTokens = 100_000 - 100 }, null, cts.Token))
            {
                if (++updates == 2)
                {
                    await cts.CancelAsync();
                }
            }
        });

        // Updates already in the stream's buffer (at most 64) may still arrive; the generation itself stopped.
        Assert.InRange(updates, 2, 2 + GenerationDefaults.StreamBufferCapacity);
    }

    [Fact]
    public async Task Disposing_the_engine_mid_generation_cancels_the_request_and_frees_the_model_after_it_leaves()
    {
        using var metrics = new MetricsProbe();
        Idefics3Engine engine = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, MeterFactory = metrics });
        int updates = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (GenerationUpdate update in engine.GenerateStreamingAsync(
                EngineFixture.SplitConversation(), new GenerationOptions { MaxNewTokens = 50_000 }, s_goldenSplit))
            {
                if (++updates == 1)
                {
                    // Inside the consuming loop: Dispose must neither wait for this request (deadlock) nor free its weights.
                    engine.Dispose();
                    Assert.Equal(1, metrics.Sum("idefics3.models.loaded")); // still in memory: the request runs
                    Assert.Equal(1, metrics.Sum("idefics3.decodes.active"));
                }
            }
        });

        Assert.Equal(0, metrics.Sum("idefics3.models.loaded"));
        Assert.Equal(0, metrics.Sum("idefics3.decodes.active"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => engine.GenerateAsync(EngineFixture.TextConversation()));
        engine.Dispose(); // idempotent
    }

    [Fact]
    public async Task Disposing_an_idle_engine_frees_the_model_at_once()
    {
        using var metrics = new MetricsProbe();
        Idefics3Engine engine = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, MeterFactory = metrics });
        await engine.GenerateAsync(EngineFixture.TextConversation(), new GenerationOptions { MaxNewTokens = 2 });
        Assert.Equal(1, metrics.Sum("idefics3.models.loaded"));
        engine.Dispose();
        Assert.Equal(0, metrics.Sum("idefics3.models.loaded"));
    }

    [Fact]
    public async Task An_already_cancelled_request_never_runs()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Engine.GenerateAsync(EngineFixture.SingleImageConversation(), new GenerationOptions { MaxNewTokens = 5 }, null, cts.Token));
    }

    [Fact]
    public async Task Concurrent_requests_give_the_same_outputs_as_serial_ones()
    {
        await using Idefics3Engine engine = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, MaxConcurrentRequests = 3 });
        var requests = new (IReadOnlyList<PromptMessage> Conversation, GenerationOptions Options, ProcessorOptions? Processing)[]
        {
            (EngineFixture.TextConversation(), new GenerationOptions { MaxNewTokens = 8 }, null),
            (EngineFixture.SingleImageConversation(), new GenerationOptions { MaxNewTokens = 8 }, s_goldenSingle),
            (EngineFixture.SplitConversation(), new GenerationOptions { MaxNewTokens = 8 }, s_goldenSplit),
            (EngineFixture.TextConversation(), new GenerationOptions { MaxNewTokens = 8, Temperature = 1, Seed = 5 }, null),
            (EngineFixture.SplitConversation(), new GenerationOptions { MaxNewTokens = 8, Temperature = 1, Seed = 7 }, s_goldenSplit),
        };

        var serial = new List<IReadOnlyList<int>>();
        foreach (var r in requests)
        {
            serial.Add((await engine.GenerateAsync(r.Conversation, r.Options, r.Processing)).OutputIds);
        }

        GenerationResult[] parallel = await Task.WhenAll(requests.Select(r => Task.Run(() => engine.GenerateAsync(r.Conversation, r.Options, r.Processing))));

        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(serial[i], parallel[i].OutputIds);
        }
    }

    [Fact]
    public async Task A_follow_up_turn_reuses_the_image_features_and_the_kv_cache_and_gives_the_cold_logprobs()
    {
        using var metrics = new MetricsProbe();
        await using Idefics3Engine warm = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, MeterFactory = metrics });
        await using Idefics3Engine cold = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, VisionCacheBytes = 0, PrefixCacheBytes = 0 });
        var first = new GenerationOptions { MaxNewTokens = 6 };
        GenerationResult turn1 = await warm.GenerateAsync(EngineFixture.SplitConversation(), first, s_goldenSplit);
        Assert.Equal(1, metrics.Sum("idefics3.vision.encodes"));

        IReadOnlyList<PromptMessage> followUp =
        [
            .. EngineFixture.SplitConversation(),
            PromptMessage.FromText("assistant", turn1.Text),
            PromptMessage.FromText("user", "And the colours?"),
        ];
        var second = new GenerationOptions { MaxNewTokens = 5, LogProbs = true, TopLogProbs = 5 };
        GenerationResult warmTurn = await warm.GenerateAsync(followUp, second, s_goldenSplit);
        GenerationResult coldTurn = await cold.GenerateAsync(followUp, second, s_goldenSplit);

        Assert.Equal(1, metrics.Sum("idefics3.vision.encodes")); // the image was not encoded again
        Assert.True(warmTurn.Usage.CachedTokens > turn1.InputIds.Count / 2, $"cached {warmTurn.Usage.CachedTokens} of {warmTurn.InputIds.Count}");
        Assert.Equal(1, metrics.Sum("idefics3.prefix_cache.hits"));
        Assert.Equal(warmTurn.Usage.CachedTokens, metrics.Sum("idefics3.tokens", "cached"));
        Assert.Equal(0, coldTurn.Usage.CachedTokens);
        Assert.Equal(coldTurn.OutputIds, warmTurn.OutputIds);
        for (int i = 0; i < coldTurn.LogProbs!.Count; i++)
        {
            // Chunked and cached prefill compute the same positions with different matrix shapes: equal to float32 rounding.
            Assert.Equal(coldTurn.LogProbs[i].LogProb, warmTurn.LogProbs![i].LogProb, 1e-5);
            for (int k = 0; k < 5; k++)
            {
                Assert.Equal(coldTurn.LogProbs[i].TopLogProbs[k].TokenId, warmTurn.LogProbs[i].TopLogProbs[k].TokenId);
                Assert.Equal(coldTurn.LogProbs[i].TopLogProbs[k].LogProb, warmTurn.LogProbs[i].TopLogProbs[k].LogProb, 1e-5);
            }
        }
    }

    [Fact]
    public async Task Concurrent_requests_with_the_same_new_image_encode_it_once()
    {
        using var metrics = new MetricsProbe();
        await using Idefics3Engine engine = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, MaxConcurrentRequests = 4, PrefixCacheBytes = 0, MeterFactory = metrics });
        GenerationResult[] results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            Task.Run(() => engine.GenerateAsync(EngineFixture.SplitConversation(), new GenerationOptions { MaxNewTokens = 3 }, s_goldenSplit))));

        Assert.Equal(1, metrics.Sum("idefics3.vision.encodes"));
        Assert.Equal(3, metrics.Sum("idefics3.vision.cache_hits"));
        Assert.All(results, r => Assert.Equal(results[0].OutputIds, r.OutputIds));
    }

    [Fact]
    public async Task Chunked_prefill_gives_the_same_tokens_as_one_pass()
    {
        await using Idefics3Engine chunked = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, PrefillChunkTokens = 7, PrefixCacheBytes = 0 });
        GenerationResult result = await chunked.GenerateAsync(EngineFixture.SplitConversation(), new GenerationOptions { MaxNewTokens = 10 }, s_goldenSplit);
        Assert.Equal(EngineFixture.FirstRow(_fixture.Case("split_2x2").GetProperty("generate_new_ids")), result.OutputIds);
    }

    [Fact]
    public async Task Requests_leave_no_tensors_alive_when_caches_are_off()
    {
        // The session is driven directly on this thread, as the engine runs it on its dedicated one.
        await using Idefics3Engine engine = await EngineFixture.LoadAsync(new Idefics3EngineOptions { DType = ModelDType.Float32, VisionCacheBytes = 0, PrefixCacheBytes = 0 });
        using DecodeServices services = SessionServices.Over(engine);
        for (int i = 0; i < 4; i++)
        {
            var options = new GenerationOptions { MaxNewTokens = 6, Temperature = 0.8f, TopP = 0.9f, Seed = i, LogProbs = true, TopLogProbs = 2 };
            using Idefics3.Engine.PreparedPrompt prompt = engine.Prepare(EngineFixture.SplitConversation(), s_goldenSplit, options);
            var session = new GenerationSession(services, prompt, options, 6, 0);
            var updates = new List<GenerationUpdate>();
            session.Run(updates.Add, CancellationToken.None);
            Assert.Equal(6, updates.Sum(u => u.TokenIds.Count));
            Assert.Equal(0, session.TensorBalance);
        }
    }

    [Fact]
    public async Task Corrupt_images_fail_with_a_clear_error_before_any_compute()
    {
        IReadOnlyList<PromptMessage> bad = [PromptMessage.Create("user", new PromptImage(new byte[] { 0x89, 0x50, 0x4E, 0x47, 1, 2, 3 }, "image/png"), new PromptText("?"))];
        Exception ex = await Assert.ThrowsAnyAsync<Exception>(() => Engine.GenerateAsync(bad));
        Assert.IsNotType<NullReferenceException>(ex);
        Assert.Contains("image", ex.Message, StringComparison.OrdinalIgnoreCase);
    }
}
