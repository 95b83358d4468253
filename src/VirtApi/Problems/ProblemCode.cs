namespace VirtApi.Problems;

/// <summary>
/// The stable <c>code</c> of every problem the API answers with. Clients branch on these, so a code
/// is never renamed; new ones are added. The RFC 9457 <c>type</c> is <c>urn:virtapi:problem:{code}</c>.
/// </summary>
public static class ProblemCode
{
    /// <summary>400: one or more fields are missing or invalid; <c>errors</c> names each field and reason.</summary>
    public const string ValidationFailed = "validation-failed";

    /// <summary>400: the request could not be read at all (malformed JSON, wrong content type).</summary>
    public const string BadRequest = "bad-request";

    /// <summary>404: no resource with that id.</summary>
    public const string NotFound = "not-found";

    /// <summary>409: another host already has that name.</summary>
    public const string HostNameTaken = "host-name-taken";

    /// <summary>409: the host still has VMs placed on it.</summary>
    public const string HostInUse = "host-in-use";

    /// <summary>409: another image already has that name.</summary>
    public const string ImageNameTaken = "image-name-taken";

    /// <summary>409: VMs still use the image; <c>vms</c> lists them.</summary>
    public const string ImageInUse = "image-in-use";

    /// <summary>409: built-in images cannot be changed or deleted.</summary>
    public const string ImageReadOnly = "image-read-only";

    /// <summary>422: the assembly source has errors; <c>errors</c> lists each with line, column and message.</summary>
    public const string AssemblyFailed = "assembly-failed";

    /// <summary>422: the uploaded file is not an ELF the machine can load; <c>detail</c> says what is wrong.</summary>
    public const string InvalidElf = "invalid-elf";

    /// <summary>422: the memory mode does not go with the CPU mode; <c>validCombinations</c> lists the ones that do.</summary>
    public const string InvalidModeCombination = "invalid-mode-combination";

    /// <summary>422: a valid mode this server does not implement yet; <c>unavailable</c> names it.</summary>
    public const string ModeUnavailable = "mode-unavailable";

    /// <summary>409: another VM already has that name.</summary>
    public const string VmNameTaken = "vm-name-taken";

    /// <summary>409: no host (or not the named one) has enough free memory; <c>memoryFreeMiB</c> says how much there is.</summary>
    public const string HostCapacity = "host-capacity";

    /// <summary>409: the VM's state does not allow the action; <c>state</c> and <c>allowedActions</c> say what does (and <c>migrationId</c> names a migration under way).</summary>
    public const string InvalidState = "invalid-state";

    /// <summary>409: diffs still depend on the snapshot; <c>dependants</c> lists them (delete them first).</summary>
    public const string SnapshotHasDependants = "snapshot-has-dependants";

    /// <summary>409: a diff needs a parent, and the VM's current run has none (or it was deleted); take a full snapshot.</summary>
    public const string SnapshotNoParent = "snapshot-no-parent";

    /// <summary>409: the snapshot was taken of a VM defined differently; <c>differences</c> names each field.</summary>
    public const string SnapshotDefinitionMismatch = "snapshot-definition-mismatch";

    /// <summary>409: the snapshot's VM no longer exists, so it cannot be restored into it (clone it instead).</summary>
    public const string SnapshotVmMissing = "snapshot-vm-missing";

    /// <summary>422: a stored page or the machine state does not match its hash; <c>guestAddress</c> and <c>hash</c> name the page. Nothing was changed.</summary>
    public const string SnapshotDamaged = "snapshot-damaged";

    /// <summary>422: the uploaded snapshot file is not one this server reads; <c>detail</c> says what is wrong.</summary>
    public const string InvalidSnapshotFile = "invalid-snapshot-file";

    /// <summary>422: the device kind has no device model in this build (net); <c>kind</c> names it, <c>available</c> lists the kinds that have one.</summary>
    public const string DeviceKindUnavailable = "device-kind-unavailable";

    /// <summary>409: the host device is passed through to a VM already; <c>vmId</c> and <c>vmName</c> name it.</summary>
    public const string HostDeviceAssigned = "host-device-assigned";

    /// <summary>409: the VM's eight virtio-mmio slots are all taken by split devices; <c>devices</c> names them.</summary>
    public const string VirtioSlotsFull = "virtio-slots-full";

    /// <summary>409: the VM's four legacy slots are all taken by emulated and passthrough devices; <c>devices</c> names them.</summary>
    public const string LegacySlotsFull = "legacy-slots-full";

    /// <summary>409: a passthrough device keeps the VM from being snapshotted or migrated; <c>devices</c> names each one.</summary>
    public const string PassthroughDeviceAttached = "passthrough-device-attached";

    /// <summary>409: the migration's target is the host the VM is on already; <c>hostId</c> names it.</summary>
    public const string MigrationSameHost = "migration-same-host";

    /// <summary>409: only a migration in pre-copy can be cancelled; <c>phase</c> says where this one is.</summary>
    public const string MigrationNotCancellable = "migration-not-cancellable";

    /// <summary>422: the request is well-formed but names something the service does not support.</summary>
    public const string Unsupported = "unsupported";

    /// <summary>500: a fault in the service; the body carries the correlation id the log line has.</summary>
    public const string InternalError = "internal-error";

    /// <summary>The RFC 9457 <c>type</c> URI for <paramref name="code"/>.</summary>
    public static string TypeUri(string code) => $"urn:virtapi:problem:{code}";

    /// <summary>The code used when a bare status code becomes a problem (no handler chose one).</summary>
    public static string ForStatus(int status) => status switch
    {
        StatusCodes.Status400BadRequest => BadRequest,
        StatusCodes.Status404NotFound => NotFound,
        StatusCodes.Status422UnprocessableEntity => Unsupported,
        >= 500 => InternalError,
        _ => $"http-{status}",
    };
}
