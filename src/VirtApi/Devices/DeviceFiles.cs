namespace VirtApi.Devices;

/// <summary>
/// Where block devices' backing files live, in the data folder (the folder of the SQLite file):
/// a VM's private disks at <c>disks/{vmId}/{deviceId}.img</c>, a host's physical block devices at
/// <c>host-devices/{hostId}/{name}.img</c>. The hypervisor creates a file on first use with the size
/// it is given; the API only deletes a VM's private disks, once the database change that dropped
/// them has committed.
/// </summary>
public sealed partial class DeviceFiles(string dataFolder, ILogger<DeviceFiles> logger)
{
    /// <summary>The absolute data folder.</summary>
    public string DataFolder { get; } = Path.GetFullPath(dataFolder);

    /// <summary>The folder of a VM's private disks.</summary>
    public string VmDisksFolder(Guid vmId) => Path.Combine(DataFolder, "disks", vmId.ToString("D"));

    /// <summary>The backing file of an emulated or split block device.</summary>
    public string VmDiskPath(Guid vmId, Guid deviceId) => Path.Combine(VmDisksFolder(vmId), $"{deviceId:D}.img");

    /// <summary>The backing file of a host's physical block device (passed through to a VM).</summary>
    public string HostDevicePath(Guid hostId, string name) => Path.Combine(DataFolder, "host-devices", hostId.ToString("D"), $"{name}.img");

    /// <summary>Deletes a detached device's disk file, if the hypervisor ever created it.</summary>
    public void DeleteVmDisk(Guid vmId, Guid deviceId)
    {
        var path = VmDiskPath(vmId, deviceId);
        try
        {
            File.Delete(path);
            var folder = VmDisksFolder(vmId);
            if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
            {
                Directory.Delete(folder);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The device is gone from the database; a file left behind costs disk space, not correctness.
            LogDeleteFailed(logger, exception, path);
        }
    }

    /// <summary>Deletes every disk file of a deleted VM.</summary>
    public void DeleteVmDisks(Guid vmId)
    {
        var folder = VmDisksFolder(vmId);
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            LogDeleteFailed(logger, exception, folder);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete {Path}; it is no longer used and can be removed by hand")]
    private static partial void LogDeleteFailed(ILogger logger, Exception exception, string path);
}
