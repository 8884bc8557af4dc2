using System.Collections;
using System.Text.Json;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// The task ids of one job, as the runner keeps them for the job's whole life. The spec types a task id only as a
/// string, but every id seen so far is a lowercase UUID: a job whose ids all are is held as one <see cref="Guid"/>
/// array (16 bytes an id) instead of a string per id (about 96 bytes, one object each). The table lives from the
/// create to the job's last outcome, across every collection of that time, so what it weighs is what each collection
/// at the start of a run finds alive and promotes, and the GC sizes its next gen0 budget by that (see the page-fault
/// notes in docs/benchmarks.md). A job with any other id keeps its strings as they came.
/// <para>
/// A UUID is kept only when its lowercase <c>D</c> form is exactly the string received, so what the table hands back
/// (<see cref="this[int]"/>, a new string each time) and what it compares (<see cref="Is(int, string)"/>,
/// <see cref="Is(int, ref Utf8JsonReader)"/>) are the server's own text, byte for byte: an uppercase or braced id is
/// not folded onto another.
/// </para>
/// </summary>
internal sealed class TaskIdTable : IReadOnlyList<string>
{
    private const int UuidLength = 36;

    private readonly Guid[]? _uuids;
    private readonly IReadOnlyList<string>? _strings;

    private TaskIdTable(Guid[]? uuids, IReadOnlyList<string>? strings) => (_uuids, _strings) = (uuids, strings);

    /// <summary>The table for <paramref name="ids"/>: compact when every id is a lowercase UUID, else the list itself.</summary>
    public static TaskIdTable From(IReadOnlyList<string> ids)
    {
        if (ids is TaskIdTable table)
        {
            return table;
        }

        if (ids.Count == 0)
        {
            return new TaskIdTable(null, ids);
        }

        var uuids = new Guid[ids.Count];
        for (int i = 0; i < uuids.Length; i++)
        {
            if (!TryParseCanonical(ids[i], out uuids[i]))
            {
                return new TaskIdTable(null, ids);
            }
        }

        return new TaskIdTable(uuids, null);
    }

    /// <summary>A compact table of ids already read as UUIDs whose lowercase <c>D</c> form is the text received.</summary>
    internal static TaskIdTable FromUuids(Guid[] uuids) => new(uuids, null);

    /// <summary>A table that keeps <paramref name="ids"/> as strings whatever they are (for tests to compare both forms).</summary>
    internal static TaskIdTable AsStrings(IReadOnlyList<string> ids) => new(null, ids);

    /// <summary>Whether the ids are held as UUIDs (for tests: the compact form is an implementation choice).</summary>
    internal bool IsCompact => _uuids is not null;

    /// <inheritdoc/>
    public int Count => _uuids?.Length ?? _strings!.Count;

    /// <summary>The id at <paramref name="index"/>: a new string for a compact table, so hold it only as long as needed.</summary>
    public string this[int index] => _uuids is { } uuids ? uuids[index].ToString() : _strings![index];

    /// <summary>The id at <paramref name="index"/> when the table holds it as a string already, else null (nothing is made).</summary>
    public string? HeldString(int index) => _strings is { } strings && (uint)index < (uint)strings.Count ? strings[index] : null;

    /// <summary>Whether the id at <paramref name="index"/> is exactly <paramref name="taskId"/>, without making a string.</summary>
    public bool Is(int index, string? taskId)
    {
        if (taskId is null)
        {
            return false;
        }

        if (_uuids is not { } uuids)
        {
            return string.Equals(_strings![index], taskId, StringComparison.Ordinal);
        }

        Span<char> text = stackalloc char[UuidLength];
        return taskId.Length == UuidLength && uuids[index].TryFormat(text, out _) && text.SequenceEqual(taskId);
    }

    /// <summary>Whether the JSON string under <paramref name="reader"/> is the id at <paramref name="index"/>.</summary>
    public bool Is(int index, ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        if (_uuids is not { } uuids)
        {
            return Json.JobDetailsReader.Known(ref reader, _strings![index]) is not null;
        }

        Span<byte> utf8 = stackalloc byte[UuidLength];
        if (!uuids[index].TryFormat(utf8, out _))
        {
            return false;
        }

        // The unescaped common case compares raw bytes; anything escaped or split is left to the reader's own compare.
        return !reader.ValueIsEscaped && !reader.HasValueSequence ? reader.ValueSpan.SequenceEqual(utf8) : reader.ValueTextEquals(utf8);
    }

    /// <inheritdoc/>
    public IEnumerator<string> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static bool TryParseCanonical(string id, out Guid uuid)
    {
        uuid = default;
        if (id is null || id.Length != UuidLength || !Guid.TryParseExact(id, "D", out uuid))
        {
            return false;
        }

        // TryParseExact takes either case; only the form Guid.ToString gives back is kept.
        foreach (char c in id)
        {
            if (c is >= 'A' and <= 'F')
            {
                return false;
            }
        }

        return true;
    }
}
