using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace ScrapeDo.Lean.Internal.Runner;

/// <summary>
/// A read-only string map over one exact array, for the few response headers and metadata entries of a fetched task:
/// about a third of a <see cref="Dictionary{TKey, TValue}"/>'s size for two entries. Keys are ordinal, as in the
/// serializer's dictionary, and enumeration is in first-insertion order like it; maps beyond
/// <see cref="MaxEntries"/> entries are read into a <see cref="Dictionary{TKey, TValue}"/> instead, so lookups never
/// turn quadratic on a hostile answer.
/// </summary>
internal sealed class SmallStringMap(KeyValuePair<string, string>[] items) : IReadOnlyDictionary<string, string>
{
    public const int MaxEntries = 16;

    /// <summary>The empty map (immutable, so one serves every task).</summary>
    public static SmallStringMap Empty { get; } = new([]);

    /// <summary>True when <paramref name="entries"/> are this map's entries as the very same string instances, in order.</summary>
    public bool HasSameStrings(ReadOnlySpan<KeyValuePair<string, string>> entries)
    {
        if (entries.Length != items.Length)
        {
            return false;
        }

        for (int i = 0; i < entries.Length; i++)
        {
            if (!ReferenceEquals(entries[i].Key, items[i].Key) || !ReferenceEquals(entries[i].Value, items[i].Value))
            {
                return false;
            }
        }

        return true;
    }

    public int Count => items.Length;

    public string this[string key] => TryGetValue(key, out string? value) ? value : throw new KeyNotFoundException($"The key '{key}' was not present.");

    public IEnumerable<string> Keys
    {
        get
        {
            var keys = new string[items.Length];
            for (int i = 0; i < keys.Length; i++)
            {
                keys[i] = items[i].Key;
            }

            return keys;
        }
    }

    public IEnumerable<string> Values
    {
        get
        {
            var values = new string[items.Length];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = items[i].Value;
            }

            return values;
        }
    }

    public bool ContainsKey(string key) => IndexOf(items, key) >= 0;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        int i = IndexOf(items, key);
        value = i >= 0 ? items[i].Value : null;
        return i >= 0;
    }

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, string>>)items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The position of <paramref name="key"/> in <paramref name="items"/>, or -1.</summary>
    public static int IndexOf(ReadOnlySpan<KeyValuePair<string, string>> items, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        for (int i = 0; i < items.Length; i++)
        {
            if (string.Equals(items[i].Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
