/** What the sign forms (change requests, releases) say when the user name is required and missing. */
export const USERNAME_REQUIRED_MESSAGE = "Enter your user name (this is the first signature of a continuous series)";
