using System.Text;
using System.Text.Json;
using ScrapeDo.Lean.Internal.Json;
using ScrapeDo.Lean.Internal.Runner;
using RichardSzalay.MockHttp;

namespace ScrapeDo.Lean.Tests;

/// <summary>The runner's hand-written task reader reads exactly what the source-generated one reads, and fails where it fails.</summary>
public class TaskDetailsReaderTests
{
    public static TheoryData<string> Bodies() => new()
    {
        """{"TaskID":"t","JobID":"j","URL":"https://a.example/","Status":"success","StartTime":"2019-08-24T14:15:22Z","EndTime":"2019-08-24T14:15:23Z","ExpiresAt":"2019-08-27T14:15:22Z","UpdateTime":"2019-08-24T14:15:23Z","Base64EncodedContent":false,"StatusCode":200,"ResponseHeaders":{"Content-Type":"text/html","X-Other":"1"},"Scrape.do":{"Scrape.do-Request-Cost":"1","Scrape.do-Initial-Status-Code":"200"},"Content":"<p>caf\u00e9 \"q\"</p>","ErrorMessage":null,"TraceID":"tr","WebhookURL":"https://h.example/","WebhookStatus":"pending","WebhookRequestTime":"2019-08-24T14:15:24Z"}""",
        """{"TaskID":"t","JobID":"j","Status":"error","ErrorMessage":"boom","StatusCode":502,"Content":"","ResponseHeaders":null,"Scrape.do":{},"WebhookStatus":null,"StartTime":"","EndTime":"0001-01-01T00:00:00Z"}""",
        """{"TaskID":"t","JobID":"j","Status":"weird-new","Base64EncodedContent":true,"Content":"aGVsbG8=","Unknown":{"a":[1,2,{"b":null}]},"More":[true]}""",
        """{"TaskID":"t","JobID":"j","Status":"success","ResponseHeaders":{"A":"1","A":"2","Content-Type":null,"\u0041b":"x"},"Content":"first","Content":"second","StatusCode":1,"StatusCode":2}""",
        """{"TaskID":"t","JobID":"j","Status":"SUCCESS","Content":null,"URL":null,"TraceID":"a\ud800b"}""",
        """{"TaskID":"t","JobID":"j","Status":"success","WebhookStatus":"delivered"}""",
        // Nullable by the spec (§8.1): an explicit null reads as the default, as an absent member does.
        """{"TaskID":"t","JobID":"j","Status":"pending","Base64EncodedContent":null,"StatusCode":null,"Content":"x"}""",
        // Failures: both readers must refuse these.
        """{"JobID":"j","Status":"success"}""",
        """{"TaskID":"t","JobID":"","Status":"success"}""",
        """{"TaskID":"t","JobID":"j","Status":null}""",
        """{"TaskID":"t","JobID":"j","Status":"success","StatusCode":"200"}""",
        """{"TaskID":"t","JobID":"j","Status":"success","StatusCode":2.5}""",
        """{"TaskID":"t","JobID":"j","Status":"success","ResponseHeaders":{"A":1}}""",
        """{"TaskID":"t","JobID":"j","Status":"success","ResponseHeaders":["A"]}""",
        """{"TaskID":"t","JobID":"j","Status":"success","Content":5}""",
        """{"TaskID":"t","JobID":"j","Status":"success","StartTime":"yesterday"}""",
        """{"TaskID":5,"JobID":"j","Status":"success"}""",
        """["not","an","object"]""",
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Same_details_or_same_refusal_as_the_generated_reader(string json)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(json);
        (TaskDetails? expected, Exception? expectedError) = Read(utf8, ScrapeDoJsonContext.Default.TaskDetails);
        (TaskDetails? actual, Exception? actualError) = Read(utf8, TaskDetailsReader.TypeInfo);
        (TaskDetails? pooled, Exception? pooledError) = Read(utf8, TaskDetailsReader.PooledTypeInfo);
        // Rented readers expecting this body's ids, or other ids: the ids are only a cheaper source of equal strings.
        // Each is read twice, so the second read goes through the shared value and map caches.
        foreach ((string job, string task, string url) in new[] { ("j", "t", "https://a.example/"), ("x", "y", "https://other.example/") })
        {
            for (int pass = 0; pass < 2; pass++)
            {
                TaskDetailsReader rented = TaskDetailsReader.Rent(pooled: false, job, task, url);
                (TaskDetails? read, Exception? readError) = Read(utf8, rented.Info);
                TaskDetailsReader.Return(rented);
                if (expectedError is not null)
                {
                    // The same type as the generated reader's refusal: callers map exactly that (the pipeline, the webhook receiver).
                    Assert.True(readError?.GetType() == expectedError.GetType(), $"rented reader: {readError?.GetType().Name ?? "accepted"} where the generated one threw {expectedError.GetType().Name} ({expectedError.Message})");
                }
                else
                {
                    Assert.Null(readError);
                    AssertSame(expected!, read!);
                }
            }
        }

        if (expectedError is not null)
        {
            Assert.True(actualError?.GetType() == expectedError.GetType(), $"hand reader: {actualError?.GetType().Name ?? "accepted"} where the generated one threw {expectedError.GetType().Name} ({expectedError.Message})");
            Assert.True(pooledError?.GetType() == expectedError.GetType(), $"pooled reader: {pooledError?.GetType().Name ?? "accepted"} where the generated one threw {expectedError.GetType().Name} ({expectedError.Message})");
            return;
        }

        Assert.Null(actualError);
        Assert.Null(pooledError);
        AssertSame(expected!, actual!);
        AssertSame(expected!, pooled!);
        using TaskContentLease? lease = PooledTaskContent.Detach(pooled!);
        Assert.Equal(expected!.Content.Utf8.ToArray(), lease?.Span.ToArray() ?? []);
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public void The_generated_writer_writes_what_the_runners_reader_reads_back_and_the_reader_refuses_to_write(string json)
    {
        (TaskDetails? read, Exception? error) = Read(Encoding.UTF8.GetBytes(json), TaskDetailsReader.TypeInfo);
        if (error is not null)
        {
            return; // a body both readers refuse (the theory above)
        }

        // The task's generated metadata lives in a context of its own (ScrapeDoJsonContext.TaskDetails); writing through it
        // and reading back with the runner's reader must give the same task.
        byte[] written = JsonSerializer.SerializeToUtf8Bytes(read!, ScrapeDoJsonContext.Default.TaskDetails);
        (TaskDetails? again, Exception? againError) = Read(written, TaskDetailsReader.TypeInfo);
        Assert.Null(againError);
        AssertSame(read!, again!);

        var refused = Assert.Throws<NotSupportedException>(() => JsonSerializer.SerializeToUtf8Bytes(read!, TaskDetailsReader.TypeInfo));
        Assert.Contains("ScrapeDoJsonContext.Default.TaskDetails", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Every_public_read_of_a_task_gives_the_generated_readers_values_or_refuses_what_it_refuses(string json)
    {
        // GetTaskAsync (with and without a length: the second is gathered whole first) and the webhook receiver read
        // through the hand-written reader; each must give what the generated reader gives, and refuse what it refuses
        // with the error its contract names.
        byte[] utf8 = Encoding.UTF8.GetBytes(json);
        (TaskDetails? expected, Exception? expectedError) = Read(utf8, ScrapeDoJsonContext.Default.TaskDetails);
        var receiver = new ScrapeDoWebhookReceiver(ScrapeDoWebhookReceiver.NewSecret());
        var mock = new MockHttpMessageHandler();
        mock.When(TestSupport.Base + "api/v1/jobs/j/t").Respond(_ => new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = TestSupport.Json(json) });
        mock.When(TestSupport.Base + "api/v1/jobs/j/chunked").Respond(_ =>
            new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ErrorAndRetryTests.NoLengthContent(TestSupport.Json(json)) });
        using var client = TestSupport.Client(mock);
        var reads = new (string Path, Func<Task<TaskDetails>> Read, Type Refusal)[]
        {
            ("GetTaskAsync", () => client.GetTaskAsync("j", "t", TestSupport.Timeout()), typeof(ScrapeDoApiException)),
            ("GetTaskAsync, no length", () => client.GetTaskAsync("j", "chunked", TestSupport.Timeout()), typeof(ScrapeDoApiException)),
            ("webhook ParseAsync", () => receiver.ParseAsync(new MemoryStream(utf8), TestSupport.Timeout()).AsTask(), typeof(InvalidDataException)),
        };
        foreach ((string path, Func<Task<TaskDetails>> read, Type refusal) in reads)
        {
            if (expectedError is not null)
            {
                Exception error = await Assert.ThrowsAnyAsync<Exception>(read);
                Assert.True(error.GetType() == refusal, $"{path}: {error.GetType().Name} ({error.Message}) instead of {refusal.Name}");
            }
            else
            {
                AssertSame(expected!, await read());
            }
        }

        if (expectedError is null)
        {
            using LeasedTask leased = await receiver.ParseLeasedAsync(new MemoryStream(utf8), TestSupport.Timeout());
            Assert.Equal(expected!.Content.Utf8.ToArray(), leased.Content?.Span.ToArray() ?? []);
        }
        else
        {
            await Assert.ThrowsAsync<InvalidDataException>(() => receiver.ParseLeasedAsync(new MemoryStream(utf8), TestSupport.Timeout()).AsTask());
        }
    }

    [Theory]
    [InlineData("""{"TaskID":"t","JobID":"j","StatusCode":"200"}""", "StatusCode")]
    [InlineData("""{"TaskID":"t","JobID":"j","TraceID":"a\udc00\ud800b"}""", "TraceID")]
    [InlineData("""{"TaskID":"t","JobID":"j","StartTime":"yesterday"}""", "StartTime")]
    [InlineData("""{"TaskID":"t","JobID":"j","ResponseHeaders":{"A":1}}""", "ResponseHeaders")]
    public void A_refusal_names_the_member_that_could_not_be_read(string json, string member)
    {
        // The serializer can only say "Path: $" of a value a converter reads whole, so the reader names the member.
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, TaskDetailsReader.TypeInfo));
        Assert.Contains($"The task's {member} could not be read", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"TaskID":"a" "JobID":"b"}""")]
    [InlineData("""{"TaskID":"a","JobID":"b",}""")]
    [InlineData("""{"TaskID":"a","JobID":"b",""")]
    [InlineData("""{"TaskID":"a","JobID":"b","Unknown":[1,}""")]
    public void A_refusal_between_members_blames_no_member(string json)
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, TaskDetailsReader.TypeInfo));
        Assert.DoesNotContain("could not be read", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026",
        Justification = "Reads the instance settings of JsonSerializerOptions by reflection in a test; the flagged members are the static Default, Web and Strict, which it never reads.")]
    public void Every_generated_context_reads_and_writes_with_the_same_options()
    {
        // The contexts are split so an app links only the metadata it uses; their options are written out once per
        // context and must not drift apart.
        // Every public setting is compared (reflection is fine in a test), the resolver aside: it is the context itself.
        JsonSerializerOptions main = ScrapeDoJsonContext.Default.Options;
        string[] notSettings = [nameof(JsonSerializerOptions.TypeInfoResolver), nameof(JsonSerializerOptions.TypeInfoResolverChain), nameof(JsonSerializerOptions.IsReadOnly)];
        var settings = typeof(JsonSerializerOptions).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && !notSettings.Contains(p.Name)).ToArray();
        Assert.True(settings.Length > 20, $"only {settings.Length} settings found");
        foreach (JsonSerializerOptions other in new[] { TaskDetailsJsonContext.Default.Options, CreateJobRequestJsonContext.Default.Options })
        {
            foreach (System.Reflection.PropertyInfo setting in settings)
            {
                object? expected = setting.GetValue(main), actual = setting.GetValue(other);
                if (setting.Name == nameof(JsonSerializerOptions.Converters))
                {
                    Assert.Equal(main.Converters.Select(c => c.GetType()), other.Converters.Select(c => c.GetType()));
                }
                else
                {
                    Assert.True(Equals(expected, actual), $"{setting.Name}: {expected} in the main context, {actual} in {other.TypeInfoResolver}");
                }
            }
        }
    }

    [Fact]
    public void Rented_reader_uses_the_callers_id_strings_and_shares_repeated_maps()
    {
        byte[] utf8 = """{"TaskID":"task-1","JobID":"job-1","URL":"https://a.example/p","Status":"success","ResponseHeaders":{"Content-Type":"text/html"},"Scrape.do":{"Scrape.do-Request-Cost":"1"},"Content":"x"}"""u8.ToArray();
        // Built at run time, so they are not the interned literals the body could be read into.
        string job = string.Concat("job", "-1".AsSpan()), task = string.Concat("task", "-1".AsSpan()), url = string.Concat("https://a.example", "/p".AsSpan());
        TaskDetailsReader reader = TaskDetailsReader.Rent(pooled: false, job, task, url);
        TaskDetails first = JsonSerializer.Deserialize(utf8, reader.Info)!;
        TaskDetails second = JsonSerializer.Deserialize(utf8, reader.Info)!;
        TaskDetailsReader.Return(reader);

        Assert.Same(job, first.JobId);
        Assert.Same(task, first.TaskId);
        Assert.Same(url, first.Url);
        Assert.Same(first.ResponseHeaders, second.ResponseHeaders);
        Assert.Same(first.ScrapeDoMetadata, second.ScrapeDoMetadata);
        Assert.Equal("text/html", second.ResponseHeaders!["Content-Type"]);

        // Other ids in the body: the body's own strings, never the expected ones.
        TaskDetailsReader other = TaskDetailsReader.Rent(pooled: false, "job-2", "task-2", "https://b.example/");
        TaskDetails third = JsonSerializer.Deserialize(utf8, other.Info)!;
        TaskDetailsReader.Return(other);
        Assert.Equal(("job-1", "task-1", "https://a.example/p"), (third.JobId, third.TaskId, third.Url));
    }

    /// <summary>
    /// The expected id or URL is recognised in the body however JSON spells it (raw ASCII, escaped, raw non-ASCII UTF-8),
    /// and only when it is that exact string: a value that differs in case, length or one char is the body's own.
    /// </summary>
    [Theory]
    [InlineData("task-1", "\"task-1\"", true)]
    [InlineData("task-1", "\"task\\u002D1\"", true)]
    [InlineData("task-1", "\"Task-1\"", false)]
    [InlineData("task-1", "\"task-10\"", false)]
    [InlineData("task-1", "\"task-\"", false)]
    [InlineData("task-1", "\"t\u00e4sk-1\"", false)]
    [InlineData("t\u00e4sk-1", "\"t\u00e4sk-1\"", true)]
    [InlineData("t\u00e4sk-1", "\"t\\u00e4sk-1\"", true)]
    [InlineData("t\u00e4sk-1", "\"task-1\"", false)]
    public void An_expected_id_is_used_exactly_when_the_body_holds_that_string(string expected, string jsonValue, bool same)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes($$"""{"TaskID":{{jsonValue}},"JobID":"j","URL":{{jsonValue}},"Status":"success"}""");
        // Built at run time, so the expected string is never an interned literal the body could be read into.
        string id = new(expected.AsSpan());
        TaskDetailsReader reader = TaskDetailsReader.Rent(pooled: false, "j", id, id);
        TaskDetails read = JsonSerializer.Deserialize(utf8, reader.Info)!;
        TaskDetailsReader.Return(reader);

        string plain = JsonSerializer.Deserialize(utf8, ScrapeDoJsonContext.Default.TaskDetails)!.TaskId;
        Assert.Equal(plain, read.TaskId);
        Assert.Equal(plain, read.Url);
        Assert.Equal(same, ReferenceEquals(id, read.TaskId));
        Assert.Equal(same, ReferenceEquals(id, read.Url));
        Assert.Equal(same, plain == expected);
    }

    /// <summary>A value the reader holds as a sequence (cut across two buffers) is compared exactly, never as its
    /// empty single-segment span.</summary>
    [Theory]
    [InlineData("task-0123456789", true)]
    [InlineData("task-0123456780", false)]
    [InlineData("", false)]
    public void An_expected_id_cut_across_two_buffers_is_compared_exactly(string expected, bool same)
    {
        byte[] json = """{"TaskID":"task-0123456789","JobID":"j","Status":"success"}"""u8.ToArray();
        int cut = json.AsSpan().IndexOf("0123"u8);
        var first = new Segment(json.AsMemory(0, cut));
        Segment last = first.Append(json.AsMemory(cut));
        var utf8 = new Utf8JsonReader(new System.Buffers.ReadOnlySequence<byte>(first, 0, last, last.Memory.Length));
        string id = new(expected.AsSpan());
        TaskDetailsReader reader = TaskDetailsReader.Rent(pooled: false, "j", id, null);
        TaskDetails read = JsonSerializer.Deserialize(ref utf8, reader.Info)!;
        TaskDetailsReader.Return(reader);

        Assert.Equal("task-0123456789", read.TaskId);
        Assert.Equal(same, ReferenceEquals(id, read.TaskId));
    }

    private sealed class Segment : System.Buffers.ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }

    private static (TaskDetails?, Exception?) Read(byte[] utf8, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TaskDetails> info)
    {
        try
        {
            return (JsonSerializer.Deserialize(utf8, info), null);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return (null, ex);
        }
    }

    private static void AssertSame(TaskDetails expected, TaskDetails actual)
    {
        Assert.Equal(expected.TaskId, actual.TaskId);
        Assert.Equal(expected.JobId, actual.JobId);
        Assert.Equal(expected.Url, actual.Url);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.StartTime, actual.StartTime);
        Assert.Equal(expected.EndTime, actual.EndTime);
        Assert.Equal(expected.ExpiresAt, actual.ExpiresAt);
        Assert.Equal(expected.UpdateTime, actual.UpdateTime);
        Assert.Equal(expected.Base64EncodedContent, actual.Base64EncodedContent);
        Assert.Equal(expected.StatusCode, actual.StatusCode);
        Assert.Equal(expected.ResponseHeaders?.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.ResponseHeaders?.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(expected.ScrapeDoMetadata?.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.ScrapeDoMetadata?.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(expected.Content.Utf8.ToArray(), actual.Content.Utf8.ToArray());
        Assert.Equal(expected.ErrorMessage, actual.ErrorMessage);
        Assert.Equal(expected.TraceId, actual.TraceId);
        Assert.Equal(expected.WebhookUrl, actual.WebhookUrl);
        Assert.Equal(expected.WebhookStatus, actual.WebhookStatus);
        Assert.Equal(expected.WebhookRequestTime, actual.WebhookRequestTime);
    }
}

public class SmallStringMapTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(200)]
    public void Maps_of_any_size_read_like_the_generated_dictionary(int entries)
    {
        var json = new System.Text.StringBuilder("""{"TaskID":"t","JobID":"j","Status":"success","ResponseHeaders":{""");
        for (int i = 0; i < entries; i++)
        {
            json.Append(i == 0 ? "" : ",").Append($"\"H{i % 150}\":\"v{i}\"");
        }

        json.Append("}}");
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(json.ToString());
        TaskDetails expected = System.Text.Json.JsonSerializer.Deserialize(utf8, ScrapeDo.Lean.Internal.Json.ScrapeDoJsonContext.Default.TaskDetails)!;
        TaskDetails actual = System.Text.Json.JsonSerializer.Deserialize(utf8, ScrapeDo.Lean.Internal.Runner.TaskDetailsReader.TypeInfo)!;

        Assert.Equal(expected.ResponseHeaders!.ToList(), actual.ResponseHeaders!.ToList());
        Assert.Equal(expected.ResponseHeaders!.Count, actual.ResponseHeaders!.Count);
        foreach ((string key, string value) in expected.ResponseHeaders)
        {
            Assert.True(actual.ResponseHeaders.ContainsKey(key));
            Assert.Equal(value, actual.ResponseHeaders[key]);
            Assert.True(actual.ResponseHeaders.TryGetValue(key, out string? got));
            Assert.Equal(value, got);
        }

        Assert.False(actual.ResponseHeaders.ContainsKey("h1"));
        Assert.False(actual.ResponseHeaders.TryGetValue("missing", out _));
        Assert.Throws<KeyNotFoundException>(() => actual.ResponseHeaders["missing"]);
        Assert.Equal(expected.ResponseHeaders.Keys, actual.ResponseHeaders.Keys);
        Assert.Equal(expected.ResponseHeaders.Values, actual.ResponseHeaders.Values);
    }
}
