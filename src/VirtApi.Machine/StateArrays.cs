using System.Collections.Immutable;

namespace VirtApi.Machine;

/// <summary>
/// Checks shared by the components' <c>Restore</c> methods: a saved array must have exactly the
/// length of the live one. A mismatch means a state from another machine shape (more harts, another
/// version) or a damaged one; restoring it partly would run a machine nobody saved, so it throws.
/// </summary>
public static class StateArrays
{
    /// <summary>Copies <paramref name="saved"/> into <paramref name="live"/>, which must be as long.</summary>
    public static void CopyInto<T>(ImmutableArray<T> saved, T[] live, string name)
    {
        Require(saved, live.Length, name);
        saved.CopyTo(live);
    }

    /// <summary>Throws unless <paramref name="saved"/> holds exactly <paramref name="length"/> elements.</summary>
    public static void Require<T>(ImmutableArray<T> saved, int length, string name)
    {
        if (saved.IsDefault || saved.Length != length)
        {
            throw new ArgumentException($"{name} holds {(saved.IsDefault ? "nothing" : saved.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))} elements; this machine has {length}", name);
        }
    }
}
