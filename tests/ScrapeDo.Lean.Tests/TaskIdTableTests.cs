using System.Buffers;
using System.Text;
using System.Text.Json;
using CsCheck;
using ScrapeDo.Lean.Internal.Json;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Tests;

/// <summary>
/// The runner holds a job's task ids as UUIDs when every id is one in lowercase form. That form is only storage: every
/// id it hands back and every comparison it makes must be the server's own text, exactly as the strings would be.
/// </summary>
public class TaskIdTableTests
{
    private static readonly string[] Uuids = ["0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7", "00000000-0000-0000-0000-000000000000"];

    [Fact]
    public void Lowercase_uuids_are_held_compact_and_handed_back_as_received()
    {
        TaskIdTable table = TaskIdTable.From(Uuids);

        Assert.True(table.IsCompact);
        Assert.Equal(Uuids, table);
        Assert.Equal(Uuids.Length, table.Count);
        Assert.Null(table.HeldString(0)); // nothing to share: the reader reads its own string
        Assert.Same(table, TaskIdTable.From(table));
    }

    [Theory]
    [InlineData("0F8FAD5B-D9CB-469F-A165-70867728950E")] // upper case: folding it would change the id we send back
    [InlineData("0f8fad5b-d9cb-469f-a165-70867728950E")]
    [InlineData("{0f8fad5b-d9cb-469f-a165-70867728950e}")]
    [InlineData("0f8fad5bd9cb469fa16570867728950e")]
    [InlineData("0f8fad5b-d9cb-469f-a165-70867728950g")]
    [InlineData("task-1")]
    [InlineData("")]
    public void A_job_with_any_other_id_keeps_its_strings(string odd)
    {
        string[] ids = [Uuids[0], odd, Uuids[1]];
        TaskIdTable table = TaskIdTable.From(ids);

        Assert.False(table.IsCompact);
        Assert.Same(odd, table[1]);
        Assert.Same(odd, table.HeldString(1));
        Assert.True(table.Is(1, odd));
        Assert.False(TaskIdTable.From([]).IsCompact);
    }

    [Fact]
    public void Compares_ids_exactly_in_both_forms()
    {
        foreach (TaskIdTable table in new[] { TaskIdTable.From(Uuids), TaskIdTable.AsStrings(Uuids) })
        {
            Assert.True(table.Is(0, new string(Uuids[0]))); // equal text, not the same object
            Assert.False(table.Is(0, Uuids[0].ToUpperInvariant()));
            Assert.False(table.Is(0, Uuids[1]));
            Assert.False(table.Is(0, Uuids[0] + " "));
            Assert.False(table.Is(0, "{" + Uuids[0] + "}"));
            Assert.False(table.Is(0, null));
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Compares_json_values_escaped_split_or_plain(bool escaped, bool split)
    {
        foreach (TaskIdTable table in new[] { TaskIdTable.From(Uuids), TaskIdTable.AsStrings(Uuids) })
        {
            Assert.True(ReadAndCompare(table, 1, Quote(Uuids[1], escaped), split));
            Assert.False(ReadAndCompare(table, 1, Quote(Uuids[1].ToUpperInvariant(), escaped), split));
            Assert.False(ReadAndCompare(table, 1, Quote(Uuids[0], escaped), split));
            Assert.False(ReadAndCompare(table, 1, Quote(Uuids[1][..35], escaped), split));
            Assert.False(ReadAndCompare(table, 1, "7", split)); // not a string token
        }
    }

    /// <summary>One snapshot of a job of UUID tasks: a subset in any order, unknown and upper-cased lookalikes mixed in.</summary>
    private static readonly Gen<(string[] Ids, string Json, bool[] Claimed)> AnySnapshot =
        Gen.Int[1, 6].SelectMany(n => Gen.Select(
            Gen.Guid.Array[n],
            Gen.Shuffle(Enumerable.Range(0, n).ToArray(), n),
            Gen.Int[0, n],
            Gen.OneOf("\"success\"", "\"pending\"", "\"error\"", "\"Canceled\"", "\"queued\"").Array[n],
            Gen.Bool.Array[n],
            Gen.Bool.Array[n],
            Gen.Int[0, 2]).Select((guids, order, listed, statuses, claimed, escape, extra) =>
        {
            string[] ids = guids.Select(g => g.ToString()).ToArray();
            var entries = new List<string>();
            for (int k = 0; k < listed; k++)
            {
                int task = order[k];
                entries.Add($$"""{"TaskID":{{Quote(ids[task], escape[task])}},"URL":"https://site.example/{{task}}","Status":{{statuses[task]}}}""");
            }

            if (extra >= 1)
            {
                // Not this job's tasks, though one differs from a table id only in case: both reads must ignore them.
                entries.Insert(entries.Count / 2, $$"""{"TaskID":{{Quote(ids[0].ToUpperInvariant(), false)}},"Status":"success"}""");
                entries.Add($$"""{"TaskID":"{{Guid.Empty}}","Status":"error"}""");
            }

            string listing = "[" + string.Join(",", ids.Select(id => Quote(id, false))) + "]";
            string json = $$"""{"JobID":"j","TaskIDs":{{listing}},"Status":"running","Tasks":[{{string.Join(",", entries)}}]}""";
            return (ids, json, claimed);
        }));

    [Fact]
    public void The_poll_diff_names_the_same_tasks_from_a_compact_table_as_from_strings()
    {
        AnySnapshot.Sample(snapshot =>
        {
            byte[] body = Encoding.UTF8.GetBytes(snapshot.Json);
            ChunkTasks compact = Table(snapshot.Ids, snapshot.Claimed, compact: true);
            Assert.True(compact.TaskIds.IsCompact);

            // The reference: the full read and SnapshotDiff over a table of strings.
            JobDetails job = JsonSerializer.Deserialize(body, JobDetailsReader.TypeInfo)!;
            var expected = new List<FinishedTask>();
            SnapshotDiff.FindFinished(job.Tasks, Table(snapshot.Ids, snapshot.Claimed, compact: false), expected);

            var fromFull = new List<FinishedTask>();
            SnapshotDiff.FindFinished(job.Tasks, compact, fromFull);
            Assert.Equal(Describe(expected), Describe(fromFull));

            var converter = new PollDiff(compact);
            JsonSerializer.Deserialize(body, converter.TypeInfo);
            Assert.Equal(Describe(expected), Describe(converter.Finished));

            using var buffered = new PollDiff(Table(snapshot.Ids, snapshot.Claimed, compact: true));
            byte[] buffer = ArrayPool<byte>.Shared.Rent(body.Length);
            body.CopyTo(buffer, 0);
            buffered.Read(buffer, body.Length, out bool kept);
            if (!kept)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            Assert.Equal(Describe(expected), Describe(buffered.Finished));
        }, iter: 1000);
    }

    /// <summary>A first snapshot of a job of UUID tasks, mostly in table order, with each task's URL in one of several forms.</summary>
    private static readonly Gen<(string[] Ids, string Json, bool NoNulls)> AnyFirstSnapshot =
        Gen.Int[1, 5].SelectMany(n => Gen.Select(
            Gen.Guid.Array[n],
            Gen.Frequency((3, Gen.Const(Enumerable.Range(0, n).ToArray())), (1, Gen.Shuffle(Enumerable.Range(0, n).ToArray(), n))),
            Gen.Frequency((3, Gen.Const(n)), (1, Gen.Int[0, n + 1])),
            Gen.Frequency((6, Gen.Const(0)), (1, Gen.Int[1, 5])).Array[n + 1],
            Gen.Bool.Array[n],
            Gen.Bool).Select((guids, order, listed, urlForm, upper, insertNull) =>
        {
            string[] ids = guids.Select(g => g.ToString()).ToArray();
            var entries = new List<string>();
            for (int k = 0; k < listed; k++)
            {
                int task = k < n ? order[k] : 0; // past n: a task listed twice
                string id = upper[task] && urlForm[n] == 1 ? ids[task].ToUpperInvariant() : ids[task];
                string url = urlForm[k] switch
                {
                    0 => $",\"URL\":\"https://site.example/{task}\"",
                    1 => $",\"URL\":\"https:\\/\\/site.example\\/{task}\"", // escaped, still the same text
                    2 => $",\"URL\":\"https://SITE.example/{task}\"",       // equivalent, not equal: left to the full read
                    3 => "",
                    _ => ",\"URL\":null",
                };
                entries.Add($$"""{"TaskID":"{{id}}"{{url}},"Status":"queued"}""");
            }

            if (insertNull && entries.Count > 0)
            {
                entries.Insert(entries.Count / 2, "null");
            }

            string json = $$"""{"JobID":"j","Status":"running","Tasks":[{{string.Join(",", entries)}}]}""";
            return (ids, json, !(insertNull && listed > 0));
        }));

    [Fact]
    public void The_first_read_is_in_target_order_only_when_the_full_read_would_keep_the_pairing()
    {
        int inOrder = 0, outOfOrder = 0;
        AnyFirstSnapshot.Sample(snapshot =>
        {
            byte[] body = Encoding.UTF8.GetBytes(snapshot.Json);
            JobDetails job = JsonSerializer.Deserialize(body, JobDetailsReader.TypeInfo)!;
            // The reference: every task listed once, at its own position, with its own id and exactly its own URL.
            bool expected = job.Tasks.Count == snapshot.Ids.Length && job.Tasks.Select((t, i) =>
                t.TaskId == snapshot.Ids[i] && t.Url == $"https://site.example/{i}").All(same => same);

            foreach (bool buffered in new[] { false, true })
            {
                ChunkTasks tasks = Table(snapshot.Ids, new bool[snapshot.Ids.Length], compact: true);
                using var diff = new PollDiff(tasks) { CheckOrder = true };
                Read(diff, body, buffered);
                // Sound always (in order means nothing to re-pair), and complete when no null entry shifts the full read.
                Assert.True(!diff.InTargetOrder || expected, snapshot.Json);
                Interlocked.Increment(ref diff.InTargetOrder ? ref inOrder : ref outOfOrder);
                if (snapshot.NoNulls)
                {
                    Assert.Equal(expected, diff.InTargetOrder);
                }

                if (diff.InTargetOrder)
                {
                    Assert.False(tasks.TryAlignByUrl(job.Tasks));
                }

                // Once the pairing is settled the check is off, and a read says nothing about order.
                diff.CheckOrder = false;
                Read(diff, body, buffered);
                Assert.False(diff.InTargetOrder);
            }
        }, iter: 1000);

        // Both verdicts were reached, so neither assertion above held vacuously.
        Assert.True(inOrder > 100 && outOfOrder > 100, $"{inOrder} in order, {outOfOrder} not");
    }

    [Fact]
    public void A_plugin_chunk_never_needs_re_pairing()
    {
        var items = new List<RunItem> { new(0, "plugin", PluginParams.FromJson("""{"q":"x"}""")) };
        using var diff = new PollDiff(new ChunkTasks("j", [Uuids[0]], items)) { CheckOrder = true };
        Read(diff, Encoding.UTF8.GetBytes($$"""{"JobID":"j","Tasks":[{"TaskID":"{{Uuids[0]}}","URL":"https://elsewhere.example/","Status":"queued"}]}"""), buffered: true);
        Assert.True(diff.InTargetOrder);
    }

    private static readonly Gen<string> AnyTaskIdElement = Gen.Frequency(
        (8, Gen.Guid.Select(g => $"\"{g}\"")),
        (1, Gen.Guid.Select(g => $"\"{g.ToString().ToUpperInvariant()}\"")),
        (1, Gen.Guid.Select(g => $"\"\\u00{(int)g.ToString()[0]:x2}{g.ToString()[1..]}\"")), // the first char escaped
        (1, Gen.Const("\"task-1\"")),
        (1, Gen.Const("null")),
        (1, Gen.Const("5")));

    /// <summary>A create answer: its members in any order, each in a valid or an invalid form, or left out.</summary>
    private static readonly Gen<string> AnyCreateAnswer = Gen.Select(
        Gen.OneOf(Gen.Const("\"JobID\":\"j-1\""), Gen.Const("\"JobID\":\"\""), Gen.Const("\"JobID\":null"), Gen.Const("\"JobID\":7"), Gen.Const("")),
        Gen.OneOf(Gen.Const("\"Message\":\"ok\""), Gen.Const("\"Message\":null"), Gen.Const("\"Message\":[1]"), Gen.Const("")),
        Gen.Frequency(
            (6, AnyTaskIdElement.Array[0, 6].Select(e => $"\"TaskIDs\":[{string.Join(",", e)}]")),
            (3, Gen.Guid.Array[1, 6].Select(g => $"\"TaskIDs\":[{string.Join(",", g.Select(x => $"\"{x}\""))}]")),
            (1, Gen.OneOf(Gen.Const("\"TaskIDs\":null"), Gen.Const("\"TaskIDs\":\"x\""), Gen.Const("")))),
        Gen.OneOf(Gen.Const("\"Extra\":{\"a\":[1,{\"TaskIDs\":3}]}"), Gen.Const("\"taskids\":5"), Gen.Const("")),
        Gen.Int[0, 23]).Select((job, message, ids, extra, turn) =>
    {
        var members = new List<string> { job, message, ids, extra };
        // One of the 24 orders of the four members.
        var ordered = new List<string>();
        for (int k = 4; k > 0; k--)
        {
            int pick = turn % k;
            turn /= k;
            ordered.Add(members[pick]);
            members.RemoveAt(pick);
        }

        return "{" + string.Join(",", ordered.Where(m => m.Length > 0)) + "}";
    });

    [Fact]
    public void The_runner_reads_a_create_answer_as_the_generated_reader_does()
    {
        int compact = 0, strings = 0;
        AnyCreateAnswer.Sample(json =>
        {
            string expected = Outcome(json, ScrapeDo.Lean.Internal.Json.ScrapeDoJsonContext.Default.CreateJobResponse, out _);
            string actual = Outcome(json, CreateResponseReader.TypeInfo, out CreateJobResponse? read);
            Assert.Equal(expected, actual);
            if (read?.TaskIds is TaskIdTable { IsCompact: true })
            {
                Interlocked.Increment(ref compact);
            }
            else if (read is not null && read.TaskIds.Count > 0)
            {
                Interlocked.Increment(ref strings);
                // Only an array with something other than a plain lowercase UUID stays as strings.
                Assert.Contains(read.TaskIds, id => id is null || !Guid.TryParseExact(id, "D", out Guid g) || g.ToString() != id || json.Contains("\\u00", StringComparison.Ordinal));
            }
        }, iter: 3000);

        Assert.True(compact > 100 && strings > 100, $"{compact} compact, {strings} as strings");
    }

    private static string Outcome(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<CreateJobResponse> typeInfo, out CreateJobResponse? read)
    {
        read = null;
        try
        {
            read = JsonSerializer.Deserialize(json, typeInfo)!;
            return $"{read.JobId}|{read.Message ?? "(null)"}|{string.Join(",", read.TaskIds.Select(id => id ?? "(null)"))}|{read.TaskIds.Count}";
        }
        catch (JsonException)
        {
            return "malformed";
        }
    }

    [Fact]
    public void A_compact_table_re_pairs_tasks_with_targets_and_finds_them_by_id()
    {
        ChunkTasks tasks = Table(Uuids, new bool[Uuids.Length], compact: true);
        TaskSummary[] snapshot =
        [
            new() { TaskId = Uuids[0], Status = "queued", Url = "https://site.example/2" },
            new() { TaskId = Uuids[1], Status = "queued", Url = "https://site.example/0" },
            new() { TaskId = Uuids[2], Status = "queued", Url = "https://site.example/1" },
        ];

        Assert.True(tasks.TryAlignByUrl(snapshot));

        Assert.Equal([Uuids[1], Uuids[2], Uuids[0]], tasks.TaskIds);
        Assert.True(tasks.TaskIds.IsCompact);
        Assert.Equal(2, tasks.IndexOf(Uuids[0]));
        Assert.Equal(-1, tasks.IndexOf(Uuids[0].ToUpperInvariant()));
        Assert.Equal(Uuids[2], tasks.TaskId(1));
        Assert.False(tasks.TryAlignByUrl(snapshot));
    }

    private static void Read(PollDiff diff, byte[] body, bool buffered)
    {
        if (!buffered)
        {
            JsonSerializer.Deserialize(body, diff.TypeInfo);
            return;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(body.Length);
        body.CopyTo(buffer, 0);
        diff.Read(buffer, body.Length, out bool kept);
        if (!kept)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ChunkTasks Table(string[] ids, bool[] claimed, bool compact)
    {
        var items = Enumerable.Range(0, ids.Length).Select(i => new RunItem(i, $"https://site.example/{i}", null)).ToList();
        var tasks = new ChunkTasks("j", compact ? ids : TaskIdTable.AsStrings(ids), items);
        for (int i = 0; i < claimed.Length; i++)
        {
            if (claimed[i])
            {
                tasks.TryClaim(i);
            }
        }

        return tasks;
    }

    private static string Describe(List<FinishedTask> finished) =>
        string.Join(";", finished.OrderBy(f => f.Index).Select(f => $"{f.Index}:{f.Status.Value}"));

    private static string Quote(string value, bool escapeAll)
    {
        if (!escapeAll)
        {
            return "\"" + value + "\"";
        }

        var text = new StringBuilder("\"");
        foreach (char c in value)
        {
            text.Append($"\\u{(int)c:x4}");
        }

        return text.Append('"').ToString();
    }

    private static bool ReadAndCompare(TaskIdTable table, int index, string json, bool split)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        var reader = split ? new Utf8JsonReader(TwoSegments(bytes)) : new Utf8JsonReader(bytes);
        Assert.True(reader.Read());
        if (split && reader.TokenType == JsonTokenType.String)
        {
            Assert.True(reader.HasValueSequence); // the split really reaches the compare
        }

        return table.Is(index, ref reader);
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes)
    {
        int half = bytes.Length / 2;
        var first = new Segment(bytes.AsMemory(0, half), 0);
        Segment last = first.Append(bytes.AsMemory(half));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex) => (Memory, RunningIndex) = (memory, runningIndex);

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
