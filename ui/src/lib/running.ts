// The UI's first module: marks when its script has arrived and starts to run (the start-up
// trace's "UI script running").
performance.mark(UI_SCRIPT_RUNNING_MARK);
